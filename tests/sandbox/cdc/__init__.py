"""The TiCDC server stand-in (`cdc server`, as tiup's run_cdc.sh starts it from cdc_servers).

- feeds.py: changefeeds as TiCDC keeps them in etcd (here one JSON file per cluster shared by
  its servers), with the checks of changefeed creation and TiCDC's error codes;
- replicator.py: the owner's work: every changefeed in state normal applies the upstream
  cluster's changes after its checkpoint to its MySQL/TiDB sink, in commit order;
- api.py: the HTTP API (OpenAPI v2 with the routes each version had, v1, /status).
"""
