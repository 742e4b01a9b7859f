"""The dumpling stand-in of the TiDB sandbox (see tests/sandbox/README.md, "dumpling").

    python -m tests.sandbox.dumpling [dumpling flags]

dump.py holds the tool; pflag.py, tablefilter.py, storage.py and golog.py are the parts
of pingcap's libraries it needs (flag parsing, table filter, external storage, log
format), shared with the tidb-lightning stand-in.
"""
