"""The sandbox CLI.

    python -m tests.sandbox up --dir DIR        start services, write DIR/bin/tiup and env files
    python -m tests.sandbox down --dir DIR      stop every cluster and service of DIR
    python -m tests.sandbox status --dir DIR    what runs (exit 0 when up, 1 when down)
    python -m tests.sandbox topology [--pd 1] [--tikv 3] [--tidb 1] [--cdc 0] [--host 127.0.0.1]
                                                 a topology YAML with free ports
    python -m tests.sandbox knob --dir DIR [NAME=VALUE ...]
                                                 set test knobs (0 clears one); prints them

See tests/sandbox/README.md.
"""
import argparse
import sys

from tests.sandbox.services import Sandbox, SandboxError, topology_yaml
from tests.sandbox.tidb import knobs


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m tests.sandbox",
                                     description="the local TiDB sandbox")
    sub = parser.add_subparsers(dest="command", required=True)
    for name, text in (("up", "start the sandbox (idempotent)"),
                       ("down", "stop everything the sandbox started"),
                       ("status", "show what runs")):
        cmd = sub.add_parser(name, help=text)
        cmd.add_argument("--dir", required=True, help="the sandbox directory")
    topo = sub.add_parser("topology", help="print a topology YAML with free ports")
    topo.add_argument("--pd", type=int, default=1)
    topo.add_argument("--tikv", type=int, default=3)
    topo.add_argument("--tidb", type=int, default=1)
    topo.add_argument("--cdc", type=int, default=0, help="TiCDC servers (cdc_servers)")
    topo.add_argument("--host", default="127.0.0.1")
    topo.add_argument("--deploy-dir", default="/tidb-deploy")
    topo.add_argument("--data-dir", default="/tidb-data")
    knob = sub.add_parser("knob", help="set test knobs of the stand-ins (see README)")
    knob.add_argument("--dir", required=True, help="the sandbox directory")
    knob.add_argument("assignments", nargs="*", metavar="NAME=VALUE",
                      help="e.g. brie_min_seconds=5 (0 clears); known: %s"
                      % ", ".join(sorted(knobs.KNOWN)))
    args = parser.parse_args(argv)

    if args.command == "knob":
        return _knob(args)

    if args.command == "topology":
        if min(args.pd, args.tikv, args.tidb, args.cdc) < 0:
            parser.error("counts must not be negative")
        sys.stdout.write(topology_yaml(args.pd, args.tikv, args.tidb, args.host,
                                       args.deploy_dir, args.data_dir, args.cdc))
        return 0
    sandbox = Sandbox(args.dir)
    try:
        if args.command == "up":
            sandbox.up()
            return 0
        if args.command == "down":
            sandbox.down()
            return 0
        return 0 if sandbox.status() else 1
    except SandboxError as exc:
        sys.stderr.write("error: %s\n" % exc)
        return 1


def _knob(args):
    try:
        values = dict(knobs.parse_assignment(a) for a in args.assignments)
        current = knobs.write(args.dir, values) if values else knobs.read(args.dir)
    except knobs.KnobError as exc:
        sys.stderr.write("error: %s\n" % exc)
        return 2
    for name in sorted(current):
        sys.stdout.write("%s=%s\n" % (name, current[name]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
