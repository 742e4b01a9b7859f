"""`tiup dumpling` (see tests/sandbox/dumpling)."""
from tests.sandbox.dumpling import dump

DEFAULT_VERSION = dump.DEFAULT_VERSION
BINARY = "dumpling"


def main(argv, ctx):
    return dump.main(argv, version=ctx.version or DEFAULT_VERSION)
