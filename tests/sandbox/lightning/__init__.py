"""The tidb-lightning stand-in of the TiDB sandbox (see tests/sandbox/README.md).

    python -m tests.sandbox.lightning --config tidb-lightning.toml [flags]

cli.py (command line, messages, exit codes), config.py (TOML and Config.Adjust),
source.py (data files and their parsers), checkpoint.py (the protobuf checkpoint file),
importer.py (the import task).
"""
