"""The Switchroom dashboard: a Textual app over a local replica of a hub's event log."""
