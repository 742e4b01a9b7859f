"""The local TiDB sandbox: real MariaDB and S3 API servers plus stand-ins for TiDB's tools.

See tests/sandbox/README.md for what it emulates and what it does not.
"""
