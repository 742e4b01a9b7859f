"""Command line of the DM-master stand-in. Runs until SIGTERM or SIGINT, then pauses its
subtasks and exits 0."""
import argparse
import logging
import signal
import sys

from tests.sandbox.dm.api import Server
from tests.sandbox.dm.master import Master

LOG = logging.getLogger("dm-standin")


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m tests.sandbox.dm", description="DM-master stand-in")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True, help="OpenAPI port (dm-master's master-addr)")
    parser.add_argument("--name", default="master1", help="the dm-master's name")
    parser.add_argument("--workers", default="worker1,worker2", help="comma-separated dm-worker names")
    args = parser.parse_args(argv)
    logging.basicConfig(stream=sys.stderr, level=logging.INFO, format="[%(asctime)s] [%(levelname)s] %(message)s")
    logging.getLogger("pymysqlreplication").setLevel(logging.ERROR)
    stop_signals = {signal.SIGTERM, signal.SIGINT}
    signal.pthread_sigmask(signal.SIG_BLOCK, stop_signals)  # before any thread starts
    master = Master(args.name, "http://%s:%d" % (args.host, args.port),
                    [w for w in args.workers.split(",") if w])
    try:
        server = Server(master, args.host, args.port)
    except OSError as exc:
        LOG.error("cannot listen on %s:%d: %s", args.host, args.port, exc)
        return 1
    server.start()
    LOG.info("dm-master %s stand-in: OpenAPI on http://%s:%d/api/v1/, workers %s", args.name, args.host, args.port,
             args.workers)
    received = signal.sigwait(stop_signals)
    LOG.info("got signal %d, shutting down", received)
    server.close()
    master.shutdown()
    LOG.info("stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
