"""TiCDC's HTTP API (pingcap/tiflow cdc/api/v2/api.go, changefeed.go, model.go; cdc/api/v1).

OpenAPI v2 has the changefeed routes of the server's version (v6.2: create, update,
meta_info, resume; v6.6: get, list, delete, pause; v7.1: status; v7.6: synced; none before
v6.2); v1 has all of them at every version, its changes answering 202 with no body. Errors
are {"error_msg", "error_code"} with 400 for the errors cdc/api/util.go names, else 500; an
unknown route is gin's plain `404 page not found`. Sink URIs are shown with the password as
`xxxxx` (url.URL.Redacted). `GET /status` is what tiup's display probes.
"""
import json
import os
import re
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from tests.sandbox.cdc import feeds as F
from tests.sandbox.tidb import tso

GIT_HASH = "2b5e3f6c1d4a7b8c9e0f1a2b3c4d5e6f7a8b9c0d"
SYNCED_CHECK_INTERVAL = 300
CHECKPOINT_INTERVAL = 15

# (method, pattern, handler name, first version with it in v2)
V2_ROUTES = [
    ("GET", r"/api/v2/health", "health", (6, 2, 0)),
    ("GET", r"/api/v2/status", "server_status", (6, 2, 0)),
    ("POST", r"/api/v2/changefeeds", "v2_create", (6, 2, 0)),
    ("PUT", r"/api/v2/changefeeds/([^/]+)", "v2_update", (6, 2, 0)),
    ("GET", r"/api/v2/changefeeds/([^/]+)/meta_info", "v2_get", (6, 2, 0)),
    ("POST", r"/api/v2/changefeeds/([^/]+)/resume", "v2_resume", (6, 2, 0)),
    ("GET", r"/api/v2/changefeeds", "v2_list", (6, 6, 0)),
    ("GET", r"/api/v2/changefeeds/([^/]+)", "v2_get", (6, 6, 0)),
    ("DELETE", r"/api/v2/changefeeds/([^/]+)", "v2_delete", (6, 6, 0)),
    ("POST", r"/api/v2/changefeeds/([^/]+)/pause", "v2_pause", (6, 6, 0)),
    ("GET", r"/api/v2/changefeeds/([^/]+)/status", "v2_status", (7, 1, 0)),
    ("GET", r"/api/v2/changefeeds/([^/]+)/synced", "v2_synced", (7, 6, 0)),
]
V1_ROUTES = [
    ("GET", r"/status", "server_status"),
    ("GET", r"/api/v1/status", "server_status"),
    ("GET", r"/api/v1/health", "health"),
    ("GET", r"/api/v1/changefeeds", "v1_list"),
    ("POST", r"/api/v1/changefeeds", "v1_create"),
    ("GET", r"/api/v1/changefeeds/([^/]+)", "v1_get"),
    ("PUT", r"/api/v1/changefeeds/([^/]+)", "v1_update"),
    ("DELETE", r"/api/v1/changefeeds/([^/]+)", "v1_delete"),
    ("POST", r"/api/v1/changefeeds/([^/]+)/pause", "v1_pause"),
    ("POST", r"/api/v1/changefeeds/([^/]+)/resume", "v1_resume"),
]


class Server(object):
    def __init__(self, host, port, cluster, owner, version, address):
        self.cluster = cluster
        self.owner = owner
        self.version = version
        self.address = address
        vt = F.version_tuple(version)
        self.routes = [(m, re.compile(p + "$"), h) for m, p, h, since in V2_ROUTES if vt >= since]
        self.routes += [(m, re.compile(p + "$"), h) for m, p, h in V1_ROUTES]
        self.httpd = ThreadingHTTPServer((host, port), _handler(self))
        self.httpd.daemon_threads = True

    # ---- models ----------------------------------------------------------------------------------
    def info_v2(self, feed):
        """ChangeFeedInfo (toAPIModel with the sink URI masked)."""
        out = {"upstream_id": feed["upstream_id"], "namespace": feed["namespace"], "id": feed["id"],
               "sink_uri": F.redacted(feed["sink_uri"]), "create_time": feed["create_time"],
               "start_ts": feed["start_ts"], "config": replica_config(feed.get("config")),
               "state": feed["state"], "creator_version": feed["creator_version"],
               "resolved_ts": feed["resolved_ts"], "checkpoint_ts": feed["checkpoint_ts"],
               "checkpoint_time": F.tso_time(feed["checkpoint_ts"])}
        if feed.get("target_ts"):
            out["target_ts"] = feed["target_ts"]
        if feed.get("admin_job_type"):
            out["admin_job_type"] = feed["admin_job_type"]
        error = F.running_error(feed)
        if error:
            out["error"] = {"addr": error["addr"], "code": error["code"], "message": error["message"]}
        return out

    @staticmethod
    def common(feed):
        """ChangefeedCommonInfo of the lists."""
        return {"upstream_id": feed["upstream_id"], "namespace": feed["namespace"], "id": feed["id"],
                "state": feed["state"], "checkpoint_tso": feed["checkpoint_ts"],
                "checkpoint_time": F.tso_time(feed["checkpoint_ts"]), "error": F.running_error(feed)}

    def listing(self, namespace, state):
        with self.cluster.feeds() as stored:
            items = [dict(f) for f in stored.get("changefeeds", {}).values() if f["namespace"] == namespace]
        wanted = ("normal", "stopped", "failed", "warning", "pending")
        items = [f for f in sorted(items, key=lambda f: f["id"])
                 if state == "all" or (f["state"] in wanted if not state else f["state"] == state)]
        return [self.common(f) for f in items]

    def server_status(self):
        return {"version": self.version, "git_hash": GIT_HASH, "id": self.address_id(), "cluster_id": "default",
                "pid": os.getpid(), "is_owner": self.owner.is_owner, "liveness": 0}

    def address_id(self):
        return "sandbox-capture-%s" % self.address.replace(":", "-")

    def synced(self, feed):
        now_ms = int(time.time() * 1000)
        checkpoint_ms = tso.physical_ms(feed["checkpoint_ts"])
        last_ms = tso.physical_ms(feed.get("last_synced_ts") or 0)
        resolved_ms = tso.physical_ms(feed["resolved_ts"])
        doc = {"sink_checkpoint_ts": F.tso_time(feed["checkpoint_ts"]), "puller_resolved_ts": F.tso_time(feed["resolved_ts"]),
               "last_synced_ts": F.tso_time(feed.get("last_synced_ts") or 0), "now_ts": F.json_time(now_ms // 1000)}
        if now_ms - last_ms > SYNCED_CHECK_INTERVAL * 1000 and now_ms - checkpoint_ms < CHECKPOINT_INTERVAL * 1000:
            doc.update(synced=True, info="Data syncing is finished")
        elif now_ms - last_ms > SYNCED_CHECK_INTERVAL * 1000 and resolved_ms - checkpoint_ms < CHECKPOINT_INTERVAL * 1000:
            doc.update(synced=False, info="Please check whether PD is online and TiKV Regions are all available. "
                       "If PD is offline or some TiKV regions are not available, it means that the data syncing "
                       "process is complete. To check whether TiKV regions are all available, you can view "
                       "'TiKV-Details' > 'Resolved-Ts' > 'Max Leader Resolved TS gap' on Grafana. If the gap is "
                       "large, such as a few minutes, it means that some regions in TiKV are unavailable. "
                       "Otherwise, if the gap is small and PD is online, it means the data syncing is incomplete, "
                       "so please wait")
        else:
            doc.update(synced=False, info="The data syncing is not finished, please wait")
        return {k: doc[k] for k in ("synced", "sink_checkpoint_ts", "puller_resolved_ts", "last_synced_ts",
                                    "now_ts", "info")}


def replica_config(config):
    """The replica config as the API shows it: the defaults with what was given."""
    config = config or {}
    out = {"memory_quota": 1073741824, "case_sensitive": bool(config.get("case_sensitive", False)),
           "force_replicate": bool(config.get("force_replicate", False)),
           "ignore_ineligible_table": bool(config.get("ignore_ineligible_table", False)),
           "check_gc_safe_point": True, "enable_sync_point": False, "bdr_mode": False,
           "filter": {"rules": list(((config.get("filter") or {}).get("rules")) or ["*.*"])}}
    return out


def _handler(server):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, fmt, *args):  # pylint: disable=arguments-differ
            pass

        def do_GET(self):  # pylint: disable=invalid-name
            self.route("GET")

        def do_POST(self):  # pylint: disable=invalid-name
            self.route("POST")

        def do_PUT(self):  # pylint: disable=invalid-name
            self.route("PUT")

        def do_DELETE(self):  # pylint: disable=invalid-name
            self.route("DELETE")

        def reply(self, code, body=None, text=None):
            if text is not None:
                data, kind = text.encode(), "text/plain"
            elif body is None:
                data, kind = b"", None
            else:
                data, kind = json.dumps(body, indent=4).encode(), "application/json; charset=utf-8"
            self.send_response(code)
            if kind:
                self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def body(self):
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            if not raw:
                return {}
            try:
                doc = json.loads(raw)
            except ValueError as exc:
                raise F.CDCError("ErrAPIInvalidParam", "invalid api parameter: %s" % exc)
            if not isinstance(doc, dict):
                raise F.CDCError("ErrAPIInvalidParam", "invalid api parameter: json: cannot unmarshal "
                                 "into Go value of type v2.ChangefeedConfig")
            return doc

        def route(self, method):
            parts = urllib.parse.urlsplit(self.path)
            self.query = urllib.parse.parse_qs(parts.query)
            path = parts.path.rstrip("/") or "/"
            for verb, pattern, name in server.routes:
                match = pattern.match(path)
                if match and verb == method:
                    try:
                        getattr(self, "h_" + name)(*[urllib.parse.unquote(g) for g in match.groups()])
                    except F.CDCError as exc:
                        self.reply(exc.status, exc.body())
                    return
            length = int(self.headers.get("Content-Length") or 0)
            if length:
                self.rfile.read(length)
            self.reply(404, text="404 page not found")

        def namespace(self):
            return (self.query.get("namespace") or ["default"])[0] or "default"

        # ---- server --------------------------------------------------------------------------
        def h_health(self):
            self.reply(200, {})

        def h_server_status(self):
            self.reply(200, server.server_status())

        # ---- v2 ------------------------------------------------------------------------------
        def h_v2_create(self):
            feed = F.create(server.cluster, server.version, self.body())
            self.reply(200, server.info_v2(feed))

        def h_v2_list(self):
            items = server.listing(self.namespace(), (self.query.get("state") or [""])[0])
            self.reply(200, {"total": len(items), "items": items})

        def h_v2_get(self, feed_id):
            self.reply(200, server.info_v2(F.get(server.cluster, self.namespace(), feed_id)))

        def h_v2_delete(self, feed_id):
            F.check_id(feed_id)
            F.remove(server.cluster, self.namespace(), feed_id)
            self.reply(200, {})

        def h_v2_pause(self, feed_id):
            F.change(server.cluster, self.namespace(), feed_id, F.pause)
            self.reply(200, {})

        def h_v2_resume(self, feed_id):
            body = self.body()
            F.change(server.cluster, self.namespace(), feed_id,
                     lambda f: F.resume(server.cluster, f, int(body.get("overwrite_checkpoint_ts") or 0)))
            self.reply(200, {})

        def h_v2_update(self, feed_id):
            body = self.body()
            F.check_id(feed_id)

            def update(feed):
                if feed["state"] not in ("stopped", "failed"):
                    raise F.CDCError("ErrChangefeedUpdateRefused", "changefeed update error: can only update "
                                     "changefeed config when it is stopped or failed")
                if body.get("sink_uri"):
                    F.parse_sink(body["sink_uri"], server.version)
                    feed["sink_uri"] = body["sink_uri"]
                if body.get("target_ts"):
                    if int(body["target_ts"]) <= feed["checkpoint_ts"]:
                        raise F.CDCError("ErrTargetTsBeforeStartTs", "fail to create changefeed because "
                                         "target-ts %d is earlier than start-ts %d"
                                         % (int(body["target_ts"]), feed["checkpoint_ts"]))
                    feed["target_ts"] = int(body["target_ts"])
                if body.get("replica_config") is not None:
                    config = dict(feed.get("config") or {})
                    config.update(body["replica_config"])
                    F.table_filter(config)
                    feed["config"] = config
            self.reply(200, server.info_v2(F.change(server.cluster, self.namespace(), feed_id, update)))

        def h_v2_status(self, feed_id):
            feed = F.get(server.cluster, self.namespace(), feed_id)
            out = {"state": feed["state"], "resolved_ts": feed["resolved_ts"], "checkpoint_ts": feed["checkpoint_ts"]}
            error = F.running_error(feed)
            if error:
                out["last_error"] = error
            self.reply(200, out)

        def h_v2_synced(self, feed_id):
            self.reply(200, server.synced(F.get(server.cluster, self.namespace(), feed_id)))

        # ---- v1 ------------------------------------------------------------------------------
        def h_v1_list(self):
            self.reply(200, server.listing(self.namespace(), (self.query.get("state") or [""])[0]))

        def h_v1_create(self):
            body = self.body()
            F.create(server.cluster, server.version, body, filter_rules=body.get("filter_rules"))
            self.reply(202)

        def h_v1_get(self, feed_id):
            feed = F.get(server.cluster, self.namespace(), feed_id)
            detail = server.common(feed)
            detail.update(sink_uri=F.redacted(feed["sink_uri"]), create_time=feed["create_time"],
                          start_ts=feed["start_ts"], resolved_ts=feed["resolved_ts"], target_ts=feed["target_ts"],
                          sort_engine="unified", error_history=None, creator_version=feed["creator_version"],
                          task_status=[])
            self.reply(200, detail)

        def h_v1_update(self, feed_id):
            self.h_v2_update(feed_id)

        def h_v1_delete(self, feed_id):
            F.get(server.cluster, self.namespace(), feed_id)
            F.remove(server.cluster, self.namespace(), feed_id)
            self.reply(202)

        def h_v1_pause(self, feed_id):
            F.change(server.cluster, self.namespace(), feed_id, F.pause)
            self.reply(202)

        def h_v1_resume(self, feed_id):
            F.change(server.cluster, self.namespace(), feed_id, lambda f: F.resume(server.cluster, f))
            self.reply(202)

    return Handler
