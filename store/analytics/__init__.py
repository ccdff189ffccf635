"""The dashboard's analytics over its cache: derived counts kept by the indexer, and what the panes
read of them (windows, breakdowns, failure groups, per-connection figures), and the cache's retention.

The log core (``switchroom.store``) never imports this package; the hub never needs it.
"""
