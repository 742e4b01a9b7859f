"""`tiup cluster` (see tests/sandbox/tiup/cluster_cli.py)."""
from tests.sandbox.tiup import cluster_cli

SKIP_STARTING_MESSAGE = True  # pkg/exec/run.go skipStartingMessages
DEFAULT_VERSION = "v1.16.1"


def main(argv, ctx):  # pylint: disable=unused-argument
    return cluster_cli.main(argv)
