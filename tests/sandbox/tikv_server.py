"""TiKV stand-in: a listener with TiKV's command line and status port.

    python -m tests.sandbox.tikv_server --addr 127.0.0.1:20160 \\
        --advertise-addr 127.0.0.1:20160 --status-addr 127.0.0.1:20180 \\
        --advertise-status-addr 127.0.0.1:20180 --pd 127.0.0.1:2379[,...] \\
        --data-dir DIR --config conf/tikv.toml --log-file log/tikv.log [--version v7.5.1]

It holds no data (the cluster's rows live in its MariaDB). Like real TiKV it needs PD:
at start it asks the PD endpoints (GET /pd/api/v1/version, standing in for the gRPC
handshake) until one answers, for at most --pd-timeout seconds (default 15); if none
does it logs a FATAL line and exits 1 without ever listening. Then it accepts TCP
connections on --addr (and closes them) and serves on --status-addr:
  GET /status    200, empty body
  GET /metrics   a few Prometheus lines (process start time, region/leader counts, engine size)
  GET /config    the configuration (tests/sandbox/tikv_config.py), as JSON
  POST /config   an online change, {"dotted.name": value, ...}, as TiKV takes it
SIGTERM/SIGINT stop it (exit 0).
"""
import argparse
import datetime
import json
import os
import signal
import socket
import sys
import threading
import time
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from tests.sandbox.tikv_config import OnlineConfig

_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def parse_args(argv):
    parser = argparse.ArgumentParser(prog="tikv-server (sandbox)")
    parser.add_argument("--addr", required=True)
    parser.add_argument("--advertise-addr", default="")
    parser.add_argument("--status-addr", required=True)
    parser.add_argument("--advertise-status-addr", default="")
    parser.add_argument("--pd", required=True, help="comma-separated PD endpoints")
    parser.add_argument("--data-dir", default="")
    parser.add_argument("--config", default="")
    parser.add_argument("--log-file", default="")
    parser.add_argument("--version", default="v7.5.1")
    parser.add_argument("--pd-timeout", type=float, default=15.0,
                        help="how long to wait for PD before giving up (sandbox)")
    return parser.parse_args(argv)


class Log(object):
    def __init__(self, path):
        self.path = path

    def __call__(self, level, source, message, **fields):
        now = datetime.datetime.now().astimezone()
        tz = now.strftime("%z")
        line = "[%s %s:%s] [%s] [%s] [%s]" % (
            now.strftime("%Y/%m/%d %H:%M:%S.") + "%03d" % (now.microsecond // 1000),
            tz[:3], tz[3:], level, source, json.dumps(message))
        for key, value in fields.items():
            line += " [%s=%s]" % (key, json.dumps(value) if isinstance(value, str) else value)
        line += "\n"
        if self.path:
            try:
                os.makedirs(os.path.dirname(os.path.abspath(self.path)), exist_ok=True)
                with open(self.path, "a") as handle:
                    handle.write(line)
                return
            except OSError:
                pass
        sys.stderr.write(line)


def split_addr(addr):
    host, dummy, port = addr.rpartition(":")
    return host or "127.0.0.1", int(port)


def pd_answers(endpoints, timeout=1.0):
    for endpoint in endpoints:
        url = endpoint if "://" in endpoint else "http://" + endpoint
        try:
            with _OPENER.open(url.rstrip("/") + "/pd/api/v1/version", timeout=timeout) as resp:
                if 200 <= resp.status < 300:
                    return endpoint
        except OSError:
            continue
    return None


def wait_for_pd(endpoints, deadline_seconds, log):
    deadline = time.monotonic() + deadline_seconds
    interval = 0.05
    last_warn = 0.0
    while True:
        found = pd_answers(endpoints)
        if found:
            return found
        if time.monotonic() >= deadline:
            return None
        if time.monotonic() - last_warn >= 2.0:
            last_warn = time.monotonic()
            log("WARN", "util.rs:599", "validate PD endpoints failed",
                err="Grpc(RpcFailure(RpcStatus { code: 14-UNAVAILABLE, message: "
                    "\"failed to connect to all addresses\" }))")
        time.sleep(min(interval, max(0.0, deadline - time.monotonic())))
        interval = min(interval * 1.5, 1.0)


def make_status_handler(started, config):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, fmt, *a):
            return

        def send_response(self, code, message=None):
            self.send_response_only(code, message)
            self.send_header("Date", self.date_time_string())

        def _send(self, code, body, ctype="text/plain; charset=utf-8"):
            self.send_response(code)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self):
            path = self.path.split("?", 1)[0]
            if path == "/status":
                return self._send(200, b"")
            if path == "/config":
                return self._send(200, json.dumps(config.get()).encode(), "application/json")
            if path == "/metrics":
                lines = [
                    "# HELP process_start_time_seconds Start time of the process since unix epoch in seconds.",
                    "# TYPE process_start_time_seconds gauge",
                    "process_start_time_seconds %d" % int(started),
                    "# HELP tikv_raftstore_region_count Number of regions collected in region_collection_worker",
                    "# TYPE tikv_raftstore_region_count gauge",
                    'tikv_raftstore_region_count{type="region"} 0',
                    'tikv_raftstore_region_count{type="leader"} 0',
                    "# HELP tikv_engine_size_bytes Sizes of each column families",
                    "# TYPE tikv_engine_size_bytes gauge",
                    'tikv_engine_size_bytes{db="kv",type="default"} 0',
                    'tikv_engine_size_bytes{db="kv",type="lock"} 0',
                    'tikv_engine_size_bytes{db="kv",type="write"} 0',
                    "# HELP tikv_store_size_bytes Size of storage.",
                    "# TYPE tikv_store_size_bytes gauge",
                    'tikv_store_size_bytes{type="available"} 0',
                    'tikv_store_size_bytes{type="capacity"} 0',
                ]
                return self._send(200, ("\n".join(lines) + "\n").encode(),
                                  "text/plain; version=0.0.4; charset=utf-8")
            return self._send(404, b"")

        def do_POST(self):
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length)
            if self.path.split("?", 1)[0] != "/config":
                return self._send(404, b"")
            try:
                changes = json.loads(body.decode() or "null")
            except ValueError as exc:
                return self._send(500, ("fail to update, error: %s" % exc).encode())
            if not isinstance(changes, dict):
                return self._send(500, b"fail to update, error: expected a map of config items")
            error = config.update(changes)
            if error:
                return self._send(500, error.encode())
            return self._send(200, b"")

    return Handler


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True


def serve_listener(sock, stop):
    sock.settimeout(0.2)
    while not stop.is_set():
        try:
            conn, dummy = sock.accept()
        except socket.timeout:
            continue
        except OSError:
            break
        try:
            conn.close()
        except OSError:
            pass


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    log = Log(args.log_file)
    log("INFO", "lib.rs:85", "Welcome to TiKV")
    log("INFO", "lib.rs:90", "Release Version:   %s" % args.version.lstrip("v"))
    endpoints = [e.strip() for e in args.pd.split(",") if e.strip()]
    if args.data_dir:
        os.makedirs(args.data_dir, exist_ok=True)
    try:
        config = OnlineConfig(args.config)
    except (OSError, ValueError) as exc:  # tomllib.TOMLDecodeError is a ValueError
        log("FATAL", "lib.rs:1", "invalid configuration file %s: %s" % (args.config, exc))
        return 1
    pd = wait_for_pd(endpoints, args.pd_timeout, log)
    if pd is None:
        log("FATAL", "server.rs:1107", "failed to start node: Other(\"[components/pd_client/src/"
            "util.rs:634]: PD cluster failed to respond\")")
        return 1
    log("INFO", "util.rs:638", "connected to PD member", endpoints=pd)
    # until here SIGTERM kills us with its default action; from now on it is a clean stop
    stop_signals = {signal.SIGTERM, signal.SIGINT}
    signal.pthread_sigmask(signal.SIG_BLOCK, stop_signals)
    host, port = split_addr(args.addr)
    shost, sport = split_addr(args.status_addr)
    started = time.time()
    try:
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind((host, port))
        listener.listen(128)
        status = _Server((shost, sport), make_status_handler(started, config))
    except OSError as exc:
        log("FATAL", "server.rs:1107", "failed to start node: %s" % exc)
        return 1
    stop = threading.Event()
    threading.Thread(target=serve_listener, args=(listener, stop), daemon=True).start()
    threading.Thread(target=status.serve_forever, kwargs={"poll_interval": 0.2},
                     daemon=True).start()
    log("INFO", "server.rs:301", "TiKV is ready to serve", addr=args.addr,
        **{"status-addr": args.status_addr})
    signal.sigwait(stop_signals)
    log("INFO", "signal_handler.rs:24", "receive signal 15, stopping server...")
    stop.set()
    status.shutdown()
    status.server_close()
    listener.close()
    log("INFO", "server.rs:400", "TiKV stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
