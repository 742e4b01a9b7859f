"""HTTP layer of the DM-master stand-in: gin's routes under /api/v1/, request validation,
IndentedJSON answers, and DM's error handler (every handler error -> 400
{"error_code", "error_msg"}); unknown paths get gin's "404 page not found".
"""
import json
import logging
import re
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from tests.sandbox.dm import schema
from tests.sandbox.dm.errors import DMError
from tests.sandbox.dm.master import NotFound

LOG = logging.getLogger("dm-standin")
NAME = r"([^/]+)"
STAGES = ("Stopped", "Running", "Finished", "Paused")


def _routes():
    """(method, path regex, handler(master, args, query, body) -> (status, payload))."""
    def body(name, required=True):
        return lambda raw: schema.parse_body(raw, name, required)

    q_bool, q_list = schema.query_bool, schema.query_list
    table = [
        ("GET", r"/api/v1/dm\.json", None, lambda m, a, q, b: (200, {"openapi": "3.0.0", "info": {
            "title": "DM OpenAPI", "version": "6.0.0"}})),
        ("GET", r"/api/v1/sources", None, lambda m, a, q, b: (200, m.list_sources(
            q_bool(q, "with_status"), q_bool(q, "enable_relay")))),
        ("POST", r"/api/v1/sources", body("CreateSourceRequest"), lambda m, a, q, b: (201, m.create_source(b))),
        ("GET", r"/api/v1/sources/%s" % NAME, None, lambda m, a, q, b: (200, m.get_source(a[0], q_bool(q, "with_status")))),
        ("PUT", r"/api/v1/sources/%s" % NAME, body("UpdateSourceRequest"), lambda m, a, q, b: (200, m.update_source(a[0], b))),
        ("DELETE", r"/api/v1/sources/%s" % NAME, None,
         lambda m, a, q, b: (204, m.delete_source(a[0], bool(q_bool(q, "force"))))),
        ("GET", r"/api/v1/sources/%s/status" % NAME, None, lambda m, a, q, b: (200, m.source_status(a[0]))),
        ("POST", r"/api/v1/sources/%s/enable" % NAME, None, lambda m, a, q, b: (200, m.enable_source(a[0]))),
        ("POST", r"/api/v1/sources/%s/disable" % NAME, None, lambda m, a, q, b: (200, m.disable_source(a[0]))),
        ("POST", r"/api/v1/sources/%s/transfer" % NAME, body("WorkerNameRequest"),
         lambda m, a, q, b: (200, m.transfer_source(a[0], b["worker_name"]))),
        ("POST", r"/api/v1/sources/%s/relay/enable" % NAME, body("EnableRelayRequest", False),
         lambda m, a, q, b: (200, m.enable_relay(a[0], b))),
        ("POST", r"/api/v1/sources/%s/relay/disable" % NAME, body("DisableRelayRequest", False),
         lambda m, a, q, b: (200, m.disable_relay(a[0], b))),
        ("POST", r"/api/v1/sources/%s/relay/purge" % NAME, body("PurgeRelayRequest"),
         lambda m, a, q, b: (200, m.purge_relay(a[0], b))),
        ("GET", r"/api/v1/sources/%s/schemas" % NAME, None, lambda m, a, q, b: (200, m.source_schemas(a[0]))),
        ("GET", r"/api/v1/sources/%s/schemas/%s" % (NAME, NAME), None,
         lambda m, a, q, b: (200, m.source_schemas(a[0], a[1]))),
        ("POST", r"/api/v1/tasks/converters", body("ConverterTaskRequest"), lambda m, a, q, b: (200, m.convert(b))),
        ("GET", r"/api/v1/tasks", None, lambda m, a, q, b: (200, m.list_tasks(
            q_bool(q, "with_status"), schema.query_enum(q, "stage", STAGES), q_list(q, "source_name_list")))),
        ("POST", r"/api/v1/tasks", body("CreateTaskRequest"), lambda m, a, q, b: (201, m.create_task(b))),
        ("GET", r"/api/v1/tasks/%s" % NAME, None, lambda m, a, q, b: (200, m.get_task(a[0], q_bool(q, "with_status")))),
        ("PUT", r"/api/v1/tasks/%s" % NAME, body("UpdateTaskRequest"), lambda m, a, q, b: (200, m.update_task(b))),
        ("DELETE", r"/api/v1/tasks/%s" % NAME, None, lambda m, a, q, b: (204, m.delete_task(
            a[0], bool(q_bool(q, "force")), bool(q_bool(q, "keep_meta"))))),
        ("GET", r"/api/v1/tasks/%s/status" % NAME, None,
         lambda m, a, q, b: (200, m.task_status(a[0], q_list(q, "source_name_list")))),
        ("POST", r"/api/v1/tasks/%s/start" % NAME, body("StartTaskRequest", False),
         lambda m, a, q, b: (200, m.start_task(a[0], b))),
        ("POST", r"/api/v1/tasks/%s/stop" % NAME, body("StopTaskRequest", False),
         lambda m, a, q, b: (200, m.stop_task(a[0], b))),
        ("GET", r"/api/v1/cluster/info", None, lambda m, a, q, b: (200, m.cluster_info())),
        ("GET", r"/api/v1/cluster/masters", None, lambda m, a, q, b: (200, m.masters())),
        ("DELETE", r"/api/v1/cluster/masters/%s" % NAME, None, lambda m, a, q, b: (204, m.offline_master(a[0]))),
        ("GET", r"/api/v1/cluster/workers", None, lambda m, a, q, b: (200, m.list_workers())),
        ("DELETE", r"/api/v1/cluster/workers/%s" % NAME, None, lambda m, a, q, b: (204, m.offline_worker(a[0]))),
    ]
    return [(method, re.compile("^%s$" % path), parse, handler) for method, path, parse, handler in table]


ROUTES = _routes()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "dm-master"

    def log_message(self, fmt, *args):  # pylint: disable=arguments-differ
        LOG.info("%s %s", self.address_string(), fmt % args)

    def _send(self, status, payload=None, text=None):
        if text is not None:
            data, ctype = text.encode(), "text/plain"
        elif payload is None:
            data, ctype = b"", None
        else:
            # gin's IndentedJSON: 4-space indent, HTML characters escaped like encoding/json
            data = json.dumps(payload, indent=4).replace("<", "\\u003c").replace(">", "\\u003e").replace(
                "&", "\\u0026").encode()
            ctype = "application/json; charset=utf-8"
        self.send_response(status)
        if ctype:
            self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if data and self.command != "HEAD":
            self.wfile.write(data)

    def _dispatch(self):
        url = urllib.parse.urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length).decode("utf-8", "replace") if length else ""
        query = urllib.parse.parse_qs(url.query, keep_blank_values=True)
        for method, pattern, parse, handler in ROUTES:
            match = pattern.match(url.path)
            if not match or method != self.command:
                continue
            args = [urllib.parse.unquote(g) for g in match.groups()]
            try:
                body = parse(raw) if parse else None
                status, payload = handler(self.server.master, args, query, body)
            except schema.RequestInvalid as exc:
                return self._send(400, {"error": str(exc)})
            except NotFound:
                return self._send(404)
            except DMError as exc:
                return self._send(400, {"error_code": exc.code, "error_msg": str(exc)})
            except Exception as exc:  # pylint: disable=broad-except
                LOG.exception("handler failed")
                return self._send(400, {"error_code": 0, "error_msg": str(exc)})
            return self._send(status, payload if status not in (204,) else None)
        return self._send(404, text="404 page not found")

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _dispatch


class Server(object):
    def __init__(self, master, host, port):
        self.httpd = ThreadingHTTPServer((host, port), Handler)
        self.httpd.daemon_threads = True
        self.httpd.master = master
        self._thread = threading.Thread(target=self.httpd.serve_forever, name="dm-http", daemon=True)

    def start(self):
        self._thread.start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()
