"""A stand-in for the `tiup` binary (run as ``python -m tests.sandbox.tiup``).

It has tiup's command line, messages, JSON mode, files and exit codes (see
/work/shared/reference/tools.md §1) and runs the sandbox's processes instead of real
TiDB binaries. Components live in ``tests/sandbox/tiup/components/<name>.py`` (a dash in
the component's name becomes an underscore); each module has ``main(argv, ctx) -> int``.
"""
