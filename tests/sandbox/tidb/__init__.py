"""TiDB SQL endpoint stand-in: one process per tidb instance of a sandbox cluster.

It is a transparent MySQL-protocol proxy to the cluster's MariaDB (so accounts, passwords,
tables and rows are real), which answers TiDB-only statements itself through a registry of
statement handlers (registry.py, statements.py), and serves TiDB's status HTTP API.

    python -m tests.sandbox.tidb --host 127.0.0.1 --port P --status-port S \\
        --backend-port B --backend-socket SOCK --version v7.5.1 --cluster NAME --state-dir DIR
"""
