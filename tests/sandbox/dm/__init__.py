"""DM-master stand-in: DM's OpenAPI v1 (sources, tasks, cluster) served by one process that
also runs the migrations (full copy and binlog-based incremental) in threads, from an
upstream MySQL/MariaDB into the task's target (a sandbox TiDB endpoint).

    python -m tests.sandbox.dm --host 127.0.0.1 --port P [--name master1] [--workers worker1,worker2]

Facts from pingcap/tiflow dm/ (see /work/shared/reference/dm.md and tests/sandbox/README.md).
"""
