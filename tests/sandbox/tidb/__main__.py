"""Command line of the TiDB SQL endpoint stand-in (what the tiup stand-in launches).

Runs until SIGTERM or SIGINT, then stops listening, drops its connections and exits 0.
"""
import argparse
import logging
import os
import signal
import sys

from tests.sandbox.tidb import statements  # noqa: F401  pylint: disable=unused-import
from tests.sandbox.tidb.identity import Identity
from tests.sandbox.tidb.proxy import Server
from tests.sandbox.tidb.status import StatusServer

LOG = logging.getLogger("tidb-standin")


def parse_args(argv):
    parser = argparse.ArgumentParser(prog="python -m tests.sandbox.tidb",
                                     description="TiDB SQL endpoint stand-in")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True, help="MySQL protocol port")
    parser.add_argument("--status-port", type=int, required=True, help="status HTTP port")
    parser.add_argument("--backend-port", type=int, required=True,
                        help="TCP port of the cluster's MariaDB (clients go through it)")
    parser.add_argument("--backend-socket", required=True,
                        help="unix socket of the cluster's MariaDB (admin work)")
    parser.add_argument("--version", required=True, help="TiDB version, e.g. v7.5.1")
    parser.add_argument("--cluster", required=True, help="cluster name")
    parser.add_argument("--path", default="",
                        help="the PD endpoints, host:port[,host:port...] (TiDB's --path with --store=tikv)")
    parser.add_argument("--state-dir", required=True, help="directory for instance files")
    args = parser.parse_args(argv)
    try:
        args.identity = Identity(args.version, args.cluster,
                                 pd=[p.strip() for p in args.path.split(",") if p.strip()],
                                 address="%s:%d" % (args.host, args.port),
                                 status_address="%s:%d" % (args.host, args.status_port))
    except ValueError as exc:
        parser.error(str(exc))
    return args


def main(argv=None):
    args = parse_args(argv)
    logging.basicConfig(stream=sys.stderr, level=logging.INFO,
                        format="[%(asctime)s] [%(levelname)s] %(message)s")
    # Block the stop signals before any thread starts (threads inherit the mask), then
    # wait for them synchronously in the main thread below.
    stop_signals = {signal.SIGTERM, signal.SIGINT}
    signal.pthread_sigmask(signal.SIG_BLOCK, stop_signals)
    os.makedirs(args.state_dir, exist_ok=True)

    proxy = Server(args.identity, args.host, args.port, args.backend_port,
                   args.backend_socket, args.state_dir)
    try:
        status = StatusServer(args.host, args.status_port, proxy)
        proxy.start()
    except OSError as exc:
        LOG.error("cannot listen on %s:%s/%s: %s", args.host, args.port, args.status_port, exc)
        return 1
    status.start()
    LOG.info("TiDB %s stand-in of cluster %s: sql %s:%d, status %d, storage 127.0.0.1:%d",
             args.identity.version, args.cluster, args.host, args.port, args.status_port,
             args.backend_port)

    received = signal.sigwait(stop_signals)
    LOG.info("got signal %d, shutting down", received)
    proxy.close()
    status.close()
    LOG.info("stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
