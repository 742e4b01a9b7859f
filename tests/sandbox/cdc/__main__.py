"""`cdc server` as tiup's run_cdc.sh starts it, plus the sandbox's own flags (--sandbox-state:
the upstream cluster's state dir; --version: the TiCDC version).

Runs until SIGTERM or SIGINT, then stops serving and exits 0.
"""
import argparse
import logging
import signal
import sys
import threading

from tests.sandbox.cdc import feeds
from tests.sandbox.cdc.api import Server
from tests.sandbox.cdc.replicator import Owner

LOG = logging.getLogger("cdc-standin")


def parse_args(argv):
    parser = argparse.ArgumentParser(prog="cdc", description="TiCDC server stand-in")
    parser.add_argument("command", choices=["server"])
    parser.add_argument("--addr", default="127.0.0.1:8300")
    parser.add_argument("--advertise-addr", default="")
    parser.add_argument("--pd", default="http://127.0.0.1:2379")
    parser.add_argument("--data-dir", default="")
    parser.add_argument("--sort-dir", default="")
    parser.add_argument("--gc-ttl", type=int, default=feeds.DEFAULT_GC_TTL)
    parser.add_argument("--tz", default="System")
    parser.add_argument("--cluster-id", default="default")
    parser.add_argument("--config", default="")
    parser.add_argument("--log-file", default="")
    parser.add_argument("--log-level", default="info")
    parser.add_argument("--version", required=True)
    parser.add_argument("--sandbox-state", required=True)
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    logging.basicConfig(filename=args.log_file or None, level=logging.INFO,
                        format="[%(asctime)s] [%(levelname)s] %(message)s")
    stop_signals = {signal.SIGTERM, signal.SIGINT}
    signal.pthread_sigmask(signal.SIG_BLOCK, stop_signals)
    host, dummy, port = args.addr.rpartition(":")
    address = args.advertise_addr or args.addr
    cluster = feeds.Cluster(args.sandbox_state)
    owner = Owner(cluster, address, args.version, args.gc_ttl)
    try:
        server = Server(host or "127.0.0.1", int(port), cluster, owner, args.version, address)
    except OSError as exc:
        LOG.error("cannot listen on %s: %s", args.addr, exc)
        return 1
    owner.start()
    threading.Thread(target=server.httpd.serve_forever, name="cdc-http", daemon=True).start()
    LOG.info("TiCDC %s stand-in listening on %s (advertised %s)", args.version, args.addr, address)
    received = signal.sigwait(stop_signals)
    LOG.info("got signal %d, shutting down", received)
    owner.stop()
    server.httpd.shutdown()
    owner.join(5)
    return 0


if __name__ == "__main__":
    sys.exit(main())
