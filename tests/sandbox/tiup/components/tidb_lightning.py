"""`tiup tidb-lightning` (see tests/sandbox/lightning)."""
from tests.sandbox.lightning import cli

DEFAULT_VERSION = cli.DEFAULT_VERSION
BINARY = "tidb-lightning"


def main(argv, ctx):
    return cli.main(argv, version=ctx.version or DEFAULT_VERSION)
