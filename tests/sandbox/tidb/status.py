"""TiDB's status HTTP API (port 10080 in a real cluster): GET /status.

tiup considers a tidb instance Up when this answers, so it must come up with the SQL port.
"""
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class StatusServer:
    def __init__(self, host, port, proxy):
        self.proxy = proxy
        handler = type("Handler", (_Handler,), {"proxy": proxy})
        self._httpd = ThreadingHTTPServer((host, port), handler)
        self._httpd.daemon_threads = True
        self._thread = None

    def start(self):
        self._thread = threading.Thread(target=self._httpd.serve_forever, name="status",
                                        kwargs={"poll_interval": 0.05},
                                        daemon=True)
        self._thread.start()

    def close(self):
        self._httpd.shutdown()
        self._httpd.server_close()


class _Handler(BaseHTTPRequestHandler):
    proxy = None  # set per server

    def do_GET(self):  # pylint: disable=invalid-name
        if self.path.split("?", 1)[0] != "/status":
            self._reply(404, "text/plain; charset=utf-8", b"404 page not found\n")
            return
        identity = self.proxy.identity
        body = json.dumps({"connections": self.proxy.connection_count(),
                           "version": identity.server_version,
                           "git_hash": identity.git_hash})
        self._reply(200, "application/json", body.encode())

    def _reply(self, code, content_type, body):
        self.send_response(code)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format, *args):  # pylint: disable=redefined-builtin
        pass  # tiup polls /status constantly; access lines would drown the log
