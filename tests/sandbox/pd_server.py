"""PD stand-in: PD's HTTP API for a sandbox cluster (tools.md §7; tikv/pd server/api).

    python -m tests.sandbox.pd_server --name=pd-127.0.0.1-2379 \\
        --client-urls=http://127.0.0.1:2379 --advertise-client-urls=http://127.0.0.1:2379 \\
        --peer-urls=http://127.0.0.1:2380 --advertise-peer-urls=http://127.0.0.1:2380 \\
        --data-dir=DIR --initial-cluster=pd-...=http://127.0.0.1:2380,... \\
        --config=conf/pd.toml --log-file=log/pd.log \\
        --sandbox-meta=<tiup meta.yaml> --sandbox-state=<cluster state>/pd-state.json

(the real pd-server flags, plus the two --sandbox-* ones). Runs until SIGTERM/SIGINT and
exits 0. Listens on the client URL (the API) and the peer URL (nothing useful, like
etcd's peer port to a non-member).

What it serves, in PD's JSON shapes (indented, like PD's renderer):
  GET  /pd/ping, /pd/api/v1/ping               200, empty body
  GET  /pd/health, /pd/api/v1/health           [{name, member_id, client_urls, health}]
  GET  /pd/api/v1/members                      {header, members, leader, etcd_leader}
  GET  /pd/api/v1/leader                       the leader member
  GET  /pd/api/v1/stores[?state=N...]          {count, stores:[{store:{...,state_name}, status}]}
  GET  /pd/api/v1/store/{id}                   one store
  GET  /pd/api/v1/version                      {"version": "v7.5.1"}
  GET  /pd/api/v1/cluster                      {"id", "max_peer_count"}
  GET  /pd/api/v1/status                       {build_ts, version, git_hash, start_timestamp}
  GET  /pd/api/v1/cluster/status               {raft_bootstrap_time, is_initialized, ...}
  GET  /pd/api/v1/config, /config/replicate    config (dashboard-address, location labels)
  POST /pd/api/v1/config                       online change of schedule/replication/pd-server
                                               items, kept in the shared state ("etcd"); the
                                               config file counts only until the first start
  GET  /pd/api/v1/gc/safepoint                 {service_gc_safe_points, min_..., gc_safe_point}
  DEL  /pd/api/v1/gc/safepoint/{service_id}    "Delete service GC safepoint successfully."
  GET  /pd/api/v2/ready                        only for PD >= v8.5.2 (when it was added)
Errors are JSON strings with 400/404/500 as PD answers them; unknown paths get gorilla
mux's "404 page not found"; a known path with another method gets 405.

Emulated behaviour: the leader is the first PD of the topology (topology order) that
answers, provided a majority of PDs answers (no quorum, no leader: leader-bound APIs fail
with PD's redirect error). Stores: one per TiKV of the topology, registered the first time
its address answers (ids are stable, kept in the shared state file); state_name is "Up"
while its TiKV port accepts TCP connections and "Down" as soon as it does not. The state
(stores, GC safepoints, dashboard address) is one JSON file shared by the cluster's PDs,
the way PD keeps it in etcd.

Other sandbox stand-ins register service GC safepoints (gRPC-only in real PD) through the
Python helpers update_service_safepoint() and set_gc_life_time().
"""
import argparse
import contextlib
import copy
import datetime
import fcntl
import hashlib
import json
import os
import re
import signal
import socket
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import yaml

from tests.sandbox import component_config

MAX_INT64 = 9223372036854775807
GIT_HASH = "7a9b1f7d0a2c3e4f5a6b7c8d9e0f1a2b3c4d5e6f"
BUILD_TS = "2024-02-28 08:57:27"
REDIRECT_NO_LEADER = "[PD:apiutil:ErrRedirectNoLeader]redirect finds no leader"
READY_SINCE = (8, 5, 2)
DEFAULT_GC_LIFE_TIME = 600


# ---- shared state ------------------------------------------------------------------------

@contextlib.contextmanager
def locked_state(path):
    """Read-modify-write of the shared state file under an exclusive lock."""
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with open(path + ".lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            try:
                with open(path) as handle:
                    state = json.load(handle)
            except (OSError, ValueError):
                state = {}
            before = json.dumps(state, sort_keys=True)
            yield state
            if json.dumps(state, sort_keys=True) != before:
                tmp = "%s.%d.tmp" % (path, os.getpid())
                with open(tmp, "w") as handle:
                    json.dump(state, handle, indent=1, sort_keys=True)
                os.replace(tmp, path)
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def compose_ts(physical_ms, logical=0):
    return (int(physical_ms) << 18) + logical


def _gc_section(state):
    gc = state.setdefault("gc", {})
    gc.setdefault("service_safe_points", {})
    gc.setdefault("gc_worker", 0)
    gc.setdefault("life_time", DEFAULT_GC_LIFE_TIME)
    return gc


def _advance_gc(state, now=None):
    """TiDB's GC worker, run lazily: the safepoint moves to now - gc_life_time, never past
    a live service safepoint and never backwards; nothing happens before the cluster has
    existed for one life time."""
    now = time.time() if now is None else now
    gc = _gc_section(state)
    created = state.setdefault("created", now)
    life = gc.get("life_time", DEFAULT_GC_LIFE_TIME)
    if now - life < created:
        return gc
    candidate = compose_ts((now - life) * 1000)
    for sid, ssp in gc["service_safe_points"].items():
        if sid != "gc_worker" and ssp["expired_at"] > now:
            candidate = min(candidate, ssp["safe_point"])
    if candidate > gc["gc_worker"]:
        gc["gc_worker"] = candidate
    return gc


def update_service_safepoint(state_path, service_id, ttl, safe_point):
    """UpdateServiceGCSafePoint (gRPC in real PD): ttl <= 0 removes the service's
    safepoint; a safepoint older than the GC safepoint is not taken. Returns the minimum
    service safepoint afterwards."""
    with locked_state(state_path) as state:
        gc = _advance_gc(state)
        ssps = gc["service_safe_points"]
        now = time.time()
        if ttl <= 0:
            ssps.pop(service_id, None)
        elif safe_point >= gc["gc_worker"]:
            expired = MAX_INT64 if ttl >= MAX_INT64 else int(now + ttl)
            ssps[service_id] = {"expired_at": expired, "safe_point": int(safe_point)}
        live = [s["safe_point"] for s in ssps.values() if s["expired_at"] > now]
        return min(live + [gc["gc_worker"]])


def set_gc_life_time(state_path, seconds):
    """What tidb_gc_life_time means to the emulated GC worker."""
    with locked_state(state_path) as state:
        _gc_section(state)["life_time"] = int(seconds)


def age_cluster(state_path, seconds):
    """A test's time machine: the cluster was created seconds earlier, so the emulated GC worker
    runs as it would have by now (its safepoint moves to now - gc life time)."""
    with locked_state(state_path) as state:
        state["created"] = state.get("created", time.time()) - seconds


def read_gc(state_path):
    with locked_state(state_path) as state:
        return json.loads(json.dumps(_advance_gc(state)))


# ---- topology ----------------------------------------------------------------------------

class Topology(object):
    """The parts of the cluster's meta.yaml PD needs; re-read when the file changes."""

    def __init__(self, path):
        self.path = path
        self._mtime = None
        self.data = {}
        self.version = "v0.0.0"
        self.pds = []
        self.tikvs = []
        self.cluster_name = os.path.basename(os.path.dirname(os.path.abspath(path)))

    def refresh(self):
        try:
            mtime = os.stat(self.path).st_mtime_ns
        except OSError:
            return
        if mtime == self._mtime:
            return
        with open(self.path) as handle:
            meta = yaml.safe_load(handle) or {}
        topo = meta.get("topology") or {}
        self.version = ((topo.get("component_versions") or {}).get("pd")
                        or meta.get("tidb_version") or "v0.0.0")
        self.tikv_version = ((topo.get("component_versions") or {}).get("tikv")
                             or meta.get("tidb_version") or "v0.0.0")
        self.pds = []
        for pd in topo.get("pd_servers") or []:
            host = pd.get("host")
            client = int(pd.get("client_port") or 2379)
            peer = int(pd.get("peer_port") or 2380)
            name = pd.get("name") or "pd-%s-%d" % (host, client)
            self.pds.append({
                "name": name, "host": host, "client_port": client, "peer_port": peer,
                "client_url": "http://%s:%d" % (host, client),
                "peer_url": "http://%s:%d" % (host, peer),
                "deploy_dir": pd.get("deploy_dir") or "",
            })
        self.tikvs = []
        for kv in topo.get("tikv_servers") or []:
            host = kv.get("host")
            port = int(kv.get("port") or 20160)
            status = int(kv.get("status_port") or 20180)
            self.tikvs.append({
                "address": kv.get("advertise_addr") or "%s:%d" % (host, port),
                "status_address": kv.get("advertise_status_addr") or "%s:%d" % (host, status),
                "probe": ("127.0.0.1" if host == "localhost" else host, port),
                "deploy_dir": kv.get("deploy_dir") or "",
            })
        self._mtime = mtime


def _probe(host, port, timeout=0.3):
    if host == "localhost":
        host = "127.0.0.1"
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def _uint64(text):
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "big") & ((1 << 63) - 1)


def byte_size(num):
    """typeutil.ByteSize's JSON: go-units BytesSize, "%.4g" with binary units."""
    units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB", "ZiB", "YiB"]
    size = float(num)
    i = 0
    while size >= 1024 and i < len(units) - 1:
        size /= 1024.0
        i += 1
    return "%.4g%s" % (size, units[i])


def go_duration(seconds):
    """time.Duration.String() for a non-negative duration (millisecond precision)."""
    if seconds <= 0:
        return "0s"
    total_ms = int(round(seconds * 1000))
    hours, rem = divmod(total_ms, 3600 * 1000)
    minutes, rem = divmod(rem, 60 * 1000)
    secs = rem / 1000.0
    sec_text = ("%.3f" % secs).rstrip("0").rstrip(".") + "s"
    if hours:
        return "%dh%dm%s" % (hours, minutes, sec_text)
    if minutes:
        return "%dm%s" % (minutes, sec_text)
    if total_ms < 1000:
        return "%dms" % total_ms
    return sec_text


def rfc3339(ts):
    """Go's time.Time JSON (RFC 3339 with nanoseconds trimmed; Z for UTC)."""
    text = datetime.datetime.fromtimestamp(ts).astimezone().isoformat()
    if "." in text:
        head, dummy, rest = text.partition(".")
        frac, sign, zone = rest[:6], rest[6:7], rest[7:]
        frac = frac.rstrip("0")
        text = head + ("." + frac if frac else "") + sign + zone
    return text[:-6] + "Z" if text.endswith("+00:00") else text


# ---- the server --------------------------------------------------------------------------

class PD(object):
    def __init__(self, args):
        self.name = args.name
        self.client_host, self.client_port = _host_port(args.client_urls)
        self.peer_host, self.peer_port = _host_port(args.peer_urls)
        self.advertise_client = args.advertise_client_urls or args.client_urls
        self.state_path = args.sandbox_state
        self.topology = Topology(args.sandbox_meta)
        self.data_dir = args.data_dir
        self.log_file = args.log_file
        self.started = time.time()
        self._probe_cache = {}
        self._lock = threading.Lock()
        self.topology.refresh()
        with locked_state(self.state_path) as state:
            state.setdefault("cluster_id", _uint64("cluster:" + self.state_path) | (1 << 62))
            state.setdefault("created", time.time())
            state.setdefault("bootstrap_time", rfc3339(time.time()))
            self.cluster_id = state["cluster_id"]
        if self.data_dir:
            os.makedirs(os.path.join(self.data_dir, "member"), exist_ok=True)

    # -- logging
    def log(self, level, message, **fields):
        now = datetime.datetime.now().astimezone()
        stamp = now.strftime("%Y/%m/%d %H:%M:%S.") + "%03d" % (now.microsecond // 1000)
        tz = now.strftime("%z")
        line = '[%s %s:%s] [%s] [server.go:1] ["%s"]' % (stamp, tz[:3], tz[3:], level, message)
        for key, value in fields.items():
            line += " [%s=%s]" % (key, json.dumps(value) if isinstance(value, str) else value)
        line += "\n"
        if self.log_file:
            try:
                os.makedirs(os.path.dirname(self.log_file), exist_ok=True)
                with open(self.log_file, "a") as handle:
                    handle.write(line)
                return
            except OSError:
                pass
        sys.stderr.write(line)

    # -- cluster views
    def alive(self, host, port):
        """TCP probe with a short cache (display asks several PDs at once)."""
        key = (host, port)
        now = time.monotonic()
        with self._lock:
            hit = self._probe_cache.get(key)
            if hit and now - hit[1] < 0.3:
                return hit[0]
        result = True if (port == self.client_port and host in (self.client_host, "localhost")) \
            else _probe(host, port)
        with self._lock:
            self._probe_cache[key] = (result, now)
        return result

    def members(self):
        self.topology.refresh()
        out = []
        for pd in self.topology.pds:
            out.append({
                "name": pd["name"],
                "member_id": _uint64("member:%d:%s" % (self.cluster_id, pd["name"])),
                "peer_urls": [pd["peer_url"]],
                "client_urls": [pd["client_url"]],
                "deploy_path": os.path.join(pd["deploy_dir"], "bin") if pd["deploy_dir"] else "",
                "binary_version": self.topology.version,
                "git_hash": GIT_HASH,
                "_alive": pd["name"] == self.name or self.alive(pd["host"], pd["client_port"]),
            })
        if not any(m["name"] == self.name for m in out):
            # a PD that is not (or no longer) in the topology still knows itself
            out.append({"name": self.name,
                        "member_id": _uint64("member:%d:%s" % (self.cluster_id, self.name)),
                        "peer_urls": ["http://%s:%d" % (self.peer_host, self.peer_port)],
                        "client_urls": [self.advertise_client], "deploy_path": "",
                        "binary_version": self.topology.version, "git_hash": GIT_HASH,
                        "_alive": True})
        return out

    def leader(self, members=None):
        members = members if members is not None else self.members()
        alive = [m for m in members if m["_alive"]]
        if len(alive) * 2 <= len(members):
            return None
        return alive[0]

    def stores(self):
        self.topology.refresh()
        now = time.time()
        up = {kv["address"]: _probe(*kv["probe"]) for kv in self.topology.tikvs}
        with locked_state(self.state_path) as state:
            stores = state.setdefault("stores", {})
            state.setdefault("next_store_id", 1)
            for kv in self.topology.tikvs:
                addr = kv["address"]
                rec = stores.get(addr)
                if rec is None:
                    if not up[addr]:
                        continue  # a TiKV registers itself when it first starts
                    rec = stores[addr] = {"id": state["next_store_id"], "start": now,
                                          "heartbeat": now, "up": True}
                    state["next_store_id"] += 1
                if up[addr]:
                    if not rec.get("up"):
                        rec["start"] = now
                    rec["up"] = True
                    rec["heartbeat"] = now
                else:
                    rec["up"] = False
                rec["status_address"] = kv["status_address"]
                rec["deploy_dir"] = kv["deploy_dir"]
            snapshot = json.loads(json.dumps(stores))
        try:
            fs = os.statvfs(os.path.dirname(os.path.abspath(self.state_path)))
            capacity, available = fs.f_blocks * fs.f_frsize, fs.f_bavail * fs.f_frsize
        except OSError:
            capacity, available = 0, 0
        version = self.topology.tikv_version.lstrip("v")
        out = []
        for addr, rec in sorted(snapshot.items(), key=lambda kv: kv[1]["id"]):
            state_name = "Up" if rec["up"] else "Down"
            meta = {"id": rec["id"], "address": addr, "version": version,
                    "peer_address": addr, "status_address": rec.get("status_address", ""),
                    "git_hash": GIT_HASH, "start_timestamp": int(rec["start"]),
                    "deploy_path": os.path.join(rec.get("deploy_dir") or "", "bin"),
                    "last_heartbeat": int(rec["heartbeat"] * 1e9), "node_state": 1,
                    "state_name": state_name}
            status = {"capacity": byte_size(capacity), "available": byte_size(available),
                      "used_size": byte_size(0), "leader_count": 0, "leader_weight": 1,
                      "leader_score": 0, "leader_size": 0, "region_count": 0,
                      "region_weight": 1, "region_score": 0, "region_size": 0,
                      "slow_score": 1, "start_ts": rfc3339(rec["start"]),
                      "last_heartbeat_ts": rfc3339(rec["heartbeat"])}
            if rec["up"]:
                status["uptime"] = go_duration(now - rec["start"])
            out.append({"store": meta, "status": status})
        return out

    def config(self, leader):
        with locked_state(self.state_path) as state:
            dash = state.get("dashboard_address")
            if not dash and leader is not None:
                # PD's leader replaces "auto" with the client URL of one member
                state["dashboard_address"] = dash = leader["client_urls"][0]
            items = self._persisted_items(state)
        config = {
            "client-urls": "http://%s:%d" % (self.client_host, self.client_port),
            "peer-urls": "http://%s:%d" % (self.peer_host, self.peer_port),
            "advertise-client-urls": self.advertise_client,
            "name": self.name, "data-dir": self.data_dir or "",
            "lease": 3, "log": {"level": "info", "file": {"filename": self.log_file or ""}},
            "cluster-version": self.topology.version.lstrip("v"),
            "labels": {},
        }
        config = component_config.merge(config, copy.deepcopy(PERSISTED_DEFAULTS))
        config["pd-server"]["dashboard-address"] = dash or "auto"
        for name, value in items.items():
            component_config.set_dotted(config, name, value)
        return config

    def _persisted_items(self, state):
        """The sections PD keeps in etcd: taken from the config file when the cluster is
        bootstrapped, and from then on changed only online (the file no longer counts)."""
        if "config_items" not in state:
            items = {}
            try:
                with open(self.topology.path) as handle:
                    meta = yaml.safe_load(handle) or {}
                pd_cfg = ((meta.get("topology") or {}).get("server_configs") or {}).get("pd") or {}
                flat = component_config.flatten(pd_cfg)
            except (OSError, yaml.YAMLError):
                flat = {}
            known = component_config.flatten(PERSISTED_DEFAULTS)
            for name, value in flat.items():
                if name in known:
                    try:
                        items[name] = _pd_value(known[name], value)
                    except ValueError:
                        continue
            state["config_items"] = items
        return state["config_items"]

    def update_config(self, changes):
        """POST /pd/api/v1/config (server/api/config.go): a map of items, dotted or by their
        child tag; returns (status, JSON body)."""
        known = component_config.flatten(PERSISTED_DEFAULTS)
        typed = {}
        for key, value in changes.items():
            name = key if "." in key else _child_tag(known, key)
            if name is None:
                return 400, "config item %s not found" % key
            prefix = name.split(".")[0]
            if prefix in ("log", "cluster-version"):
                continue  # accepted, not kept: the stand-in's log level and version are fixed
            if prefix not in ONLINE_SECTIONS:
                return 400, "config prefix %s not found" % prefix
            if name not in known:
                return 400, "config item %s not found" % name.split(".")[-1]
            try:
                typed[name] = _pd_value(known[name], value)
            except ValueError as exc:
                return 400, str(exc)
        if typed.get("replication.max-replicas") == 0:
            return 400, "[PD:config:ErrConfigItem]max-replicas should be greater than 0"
        with locked_state(self.state_path) as state:
            self._persisted_items(state).update(typed)
        return 200, "The config is updated."

    def max_replicas(self):
        return int(self.config(None)["replication"]["max-replicas"])


# The sections of PD's config that live in etcd and change online, with their defaults (v7.x).
PERSISTED_DEFAULTS = {
    "schedule": {"max-store-down-time": "30m0s", "leader-schedule-limit": 4,
                 "region-schedule-limit": 2048, "replica-schedule-limit": 64,
                 "merge-schedule-limit": 8, "hot-region-schedule-limit": 4,
                 "max-merge-region-size": 20, "max-merge-region-keys": 200000,
                 "patrol-region-interval": "10ms", "split-merge-interval": "1h0m0s",
                 "enable-cross-table-merge": "true", "store-limit-version": "v1"},
    "replication": {"max-replicas": 3, "location-labels": "", "strictly-match-label": "false",
                    "enable-placement-rules": "true", "isolation-level": ""},
    "pd-server": {"use-region-storage": "true", "max-gap-reset-ts": "24h0m0s",
                  "key-type": "table", "runtime-services": "", "metric-storage": "",
                  "dashboard-address": "auto", "flow-round-by-digit": 3,
                  "min-resolved-ts-persistence-interval": "1s", "server-memory-limit": 0},
    "replication-mode": {"replication-mode": "majority"},
}
ONLINE_SECTIONS = ("schedule", "replication", "replication-mode", "pd-server")
_GO_TYPES = {int: "uint64", float: "float64", str: "string"}


def _child_tag(known, key):
    """reflectutil.FindJSONFullTagByChildTag: the full name of a bare item name."""
    for name in known:
        if name.split(".")[-1] == key:
            return name
    return None


def _pd_value(default, value):
    """The value as PD's typed config struct takes it (json.Unmarshal's complaint if not).
    PD shows its booleans as strings ("true"), so those take a bool or its text."""
    field = "Config"
    if isinstance(default, int) and not isinstance(default, bool):
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0 \
                or int(value) != value:
            raise ValueError("json: cannot unmarshal %s into Go struct field %s of type uint64"
                             % (_json_kind(value), field))
        return int(value)
    if default in ("true", "false"):
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, str) and value in ("true", "false"):
            return value
        raise ValueError("json: cannot unmarshal %s into Go struct field %s of type bool"
                         % (_json_kind(value), field))
    if isinstance(value, str):
        if component_config.is_duration(default) and not component_config.is_duration(value):
            raise ValueError("time: invalid duration %s" % json.dumps(value))
        return value
    if isinstance(value, list) and default == "":
        return ",".join(str(v) for v in value)
    raise ValueError("json: cannot unmarshal %s into Go struct field %s of type string"
                     % (_json_kind(value), field))


def _json_kind(value):
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    return "array" if isinstance(value, list) else "object"


def _host_port(url):
    parsed = urllib.parse.urlsplit(url if "://" in url else "http://" + url)
    return parsed.hostname, parsed.port


def _version_tuple(version):
    match = re.match(r"^v?(\d+)\.(\d+)\.(\d+)", version or "")
    if not match:
        return (99, 0, 0) if (version or "").lower() == "nightly" else (0, 0, 0)
    return tuple(int(x) for x in match.groups())


def make_handler(pd):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, fmt, *args):  # quiet: PD does not log every request
            return

        def send_response(self, code, message=None):
            # Go's net/http sends Date but no Server header
            self.send_response_only(code, message)
            self.send_header("Date", self.date_time_string())

        def send_json(self, code, obj):
            body = (json.dumps(obj, indent=2) + "\n").encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/json; charset=UTF-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

        def send_plain(self, code, text):
            body = text.encode()
            self.send_response(code)
            self.send_header("Content-Type", "text/plain; charset=utf-8")
            self.send_header("X-Content-Type-Options", "nosniff")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

        def not_found(self):
            self.send_plain(404, "404 page not found\n")

        def not_allowed(self):
            self.send_response(405)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def do_GET(self):
            self.route("GET")

        def do_DELETE(self):
            self.route("DELETE")

        def do_POST(self):
            length = int(self.headers.get("Content-Length") or 0)
            self.body = self.rfile.read(length) if length else b""
            self.route("POST")

        def do_PUT(self):
            self.route("PUT")

        def route(self, method):
            parsed = urllib.parse.urlsplit(self.path)
            path = parsed.path
            query = urllib.parse.parse_qs(parsed.query, keep_blank_values=True)
            known_path = False
            for pattern, methods, func in ROUTES:
                match = re.fullmatch(pattern, path)
                if not match:
                    continue
                known_path = True
                if method not in methods:
                    continue
                try:
                    return func(self, query, *match.groups())
                except Exception as exc:  # pylint: disable=broad-except
                    pd.log("ERROR", "http handler failed", error=str(exc), path=path)
                    return self.send_json(500, str(exc))
            return self.not_allowed() if known_path else self.not_found()

        # -- handlers
        def h_ping(self, query):
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def h_health(self, query):
            out = []
            for m in pd.members():
                out.append({"name": m["name"], "member_id": m["member_id"],
                            "client_urls": m["client_urls"], "health": m["_alive"]})
            self.send_json(200, out)

        def h_members(self, query):
            members = pd.members()
            leader = pd.leader(members)
            clean = [{k: v for k, v in m.items() if not k.startswith("_")} for m in members]
            doc = {"header": {"cluster_id": pd.cluster_id}, "members": clean}
            if leader is not None:
                lead = {k: v for k, v in leader.items() if not k.startswith("_")}
                doc["leader"] = lead
                doc["etcd_leader"] = lead
            self.send_json(200, doc)

        def h_leader(self, query):
            leader = pd.leader()
            if leader is None:
                return self.send_json(500, REDIRECT_NO_LEADER)
            self.send_json(200, {k: v for k, v in leader.items() if not k.startswith("_")})

        def h_stores(self, query):
            if pd.leader() is None:
                return self.send_json(500, REDIRECT_NO_LEADER)
            states = query.get("state") or []
            wanted = set()
            for value in states:
                try:
                    number = int(value)
                except ValueError:
                    return self.send_json(400, 'strconv.Atoi: parsing "%s": invalid syntax' % value)
                wanted.add(number)
            stores = pd.stores()
            if wanted:
                # metapb: 0 Up, 1 Offline, 2 Tombstone; the sandbox's stores are all state Up
                stores = [s for s in stores if 0 in wanted]
            self.send_json(200, {"count": len(stores), "stores": stores})

        def h_store(self, query, store_id):
            if pd.leader() is None:
                return self.send_json(500, REDIRECT_NO_LEADER)
            try:
                wanted = int(store_id)
            except ValueError:
                return self.send_json(400, 'strconv.ParseUint: parsing "%s": invalid syntax' % store_id)
            for store in pd.stores():
                if store["store"]["id"] == wanted:
                    return self.send_json(200, store)
            self.send_json(404, "[PD:core:ErrStoreNotFound]store %d not found" % wanted)

        def h_version(self, query):
            self.send_json(200, {"version": pd.topology.version})

        def h_status(self, query):
            # server/api/status.go: versioninfo.Status; answered by any member, leader or not
            self.send_json(200, {"build_ts": BUILD_TS, "version": pd.topology.version,
                                 "git_hash": GIT_HASH, "start_timestamp": int(pd.started)})

        def h_cluster(self, query):
            if pd.leader() is None:
                return self.send_json(500, REDIRECT_NO_LEADER)
            self.send_json(200, {"id": pd.cluster_id, "max_peer_count": pd.max_replicas()})

        def h_cluster_status(self, query):
            if pd.leader() is None:
                return self.send_json(500, REDIRECT_NO_LEADER)
            with locked_state(pd.state_path) as state:
                boot = state.get("bootstrap_time")
            self.send_json(200, {"raft_bootstrap_time": boot, "is_initialized": True,
                                 "replication_status": {"state": ""}})

        def h_config(self, query):
            leader = pd.leader()
            if leader is None:
                return self.send_json(500, REDIRECT_NO_LEADER)
            self.send_json(200, pd.config(leader))

        def h_config_post(self, query):
            leader = pd.leader()
            if leader is None:
                return self.send_json(500, REDIRECT_NO_LEADER)
            try:
                changes = json.loads(self.body.decode() or "null")
            except ValueError as exc:
                return self.send_json(400, str(exc))
            if not isinstance(changes, dict):
                return self.send_json(400, "json: cannot unmarshal into map[string]interface {}")
            if not changes:
                return self.send_json(200, "The input is empty.")
            code, body = pd.update_config(changes)
            self.send_json(code, body)

        def h_replicate(self, query):
            leader = pd.leader()
            if leader is None:
                return self.send_json(500, REDIRECT_NO_LEADER)
            self.send_json(200, pd.config(leader)["replication"])

        def h_gc_get(self, query):
            if pd.leader() is None:
                return self.send_json(500, REDIRECT_NO_LEADER)
            gc = read_gc(pd.state_path)
            now = time.time()
            ssps = []
            worker = {"service_id": "gc_worker", "expired_at": MAX_INT64,
                      "safe_point": gc["gc_worker"]}
            ssps.append(worker)
            for sid in sorted(gc["service_safe_points"]):
                if sid == "gc_worker":
                    continue
                ssp = gc["service_safe_points"][sid]
                ssps.append({"service_id": sid, "expired_at": ssp["expired_at"],
                             "safe_point": ssp["safe_point"]})
            live = [s["safe_point"] for s in ssps if s["expired_at"] > now]
            doc = {"service_gc_safe_points": ssps}
            minimum = min(live) if live else 0
            if minimum:
                doc["min_service_gc_safe_point"] = minimum
            doc["gc_safe_point"] = gc["gc_worker"]
            self.send_json(200, doc)

        def h_gc_delete(self, query, service_id):
            if pd.leader() is None:
                return self.send_json(500, REDIRECT_NO_LEADER)
            service_id = urllib.parse.unquote(service_id)
            with locked_state(pd.state_path) as state:
                _gc_section(state)["service_safe_points"].pop(service_id, None)
            self.send_json(200, "Delete service GC safepoint successfully.")

        def h_ready(self, query):
            if _version_tuple(pd.topology.version) < READY_SINCE:
                return self.not_found()
            if "verbose" not in query:
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            self.send_json(200, {"region_loaded": True, "is_bootstrapped": True})

    ROUTES = [
        (r"/pd/ping", ("GET",), Handler.h_ping),
        (r"/pd/api/v1/ping", ("GET",), Handler.h_ping),
        (r"/pd/health", ("GET",), Handler.h_health),
        (r"/pd/api/v1/health", ("GET",), Handler.h_health),
        (r"/pd/api/v1/members", ("GET",), Handler.h_members),
        (r"/pd/api/v1/leader", ("GET",), Handler.h_leader),
        (r"/pd/api/v1/stores", ("GET",), Handler.h_stores),
        (r"/pd/api/v1/store/([^/]+)", ("GET",), Handler.h_store),
        (r"/pd/api/v1/version", ("GET",), Handler.h_version),
        (r"/pd/api/v1/status", ("GET",), Handler.h_status),
        (r"/pd/api/v1/cluster", ("GET",), Handler.h_cluster),
        (r"/pd/api/v1/cluster/status", ("GET",), Handler.h_cluster_status),
        (r"/pd/api/v1/config", ("GET",), Handler.h_config),
        (r"/pd/api/v1/config", ("POST",), Handler.h_config_post),
        (r"/pd/api/v1/config/replicate", ("GET",), Handler.h_replicate),
        (r"/pd/api/v1/gc/safepoint", ("GET",), Handler.h_gc_get),
        (r"/pd/api/v1/gc/safepoint/([^/]+)", ("DELETE",), Handler.h_gc_delete),
        (r"/pd/api/v2/ready", ("GET",), Handler.h_ready),
    ]
    return Handler


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True


class _PeerHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        return

    def do_GET(self):
        body = b"404 page not found\n"
        self.send_response(404)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def parse_args(argv):
    parser = argparse.ArgumentParser(prog="pd-server (sandbox)")
    parser.add_argument("--name", required=True)
    parser.add_argument("--client-urls", required=True)
    parser.add_argument("--advertise-client-urls", default="")
    parser.add_argument("--peer-urls", required=True)
    parser.add_argument("--advertise-peer-urls", default="")
    parser.add_argument("--data-dir", default="")
    parser.add_argument("--initial-cluster", default="")
    parser.add_argument("--join", default="")
    parser.add_argument("--config", default="")
    parser.add_argument("--log-file", default="")
    parser.add_argument("--sandbox-meta", required=True, help="the cluster's tiup meta.yaml")
    parser.add_argument("--sandbox-state", required=True, help="PD state shared by the cluster")
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    stop_signals = {signal.SIGTERM, signal.SIGINT}
    signal.pthread_sigmask(signal.SIG_BLOCK, stop_signals)
    pd = PD(args)
    try:
        api = _Server((pd.client_host, pd.client_port), make_handler(pd))
        peer = _Server((pd.peer_host, pd.peer_port), _PeerHandler)
    except OSError as exc:
        pd.log("FATAL", "run server failed", error=str(exc))
        return 1
    for server in (api, peer):
        threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.2},
                         daemon=True).start()
    pd.log("INFO", "PD server started", name=pd.name,
           **{"client-urls": args.client_urls, "peer-urls": args.peer_urls})
    received = signal.sigwait(stop_signals)
    pd.log("INFO", "got signal to exit", signal=received)
    api.shutdown()
    peer.shutdown()
    api.server_close()
    peer.server_close()
    pd.log("INFO", "PD server is closed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
