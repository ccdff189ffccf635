"""The Switchroom platform: catalog, Connect API, service client, event log and streams."""
