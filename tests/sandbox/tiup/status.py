"""Instance status the way `tiup cluster display` gets it (pkg/cluster/manager/display.go,
spec/pd.go, spec/tikv.go, spec/util.go statusByHost):

- PD: GET /pd/ping on the instance; failure -> "Down"; then /pd/api/v1/leader; failure ->
  "ERR"; "Up" plus "|L" when the leader's name is the instance's; "|UI" is appended to the
  PD whose address is PD's pd-server.dashboard-address (from /pd/api/v1/config);
- TiKV: the state_name of its store in /pd/api/v1/stores?state=0&state=1&state=2 asked of
  the PDs that are up; no PD up or no such store -> "N/A"; PD error -> "Down";
- TiDB and TiCDC (spec/cdc.go, on its one port): GET http://host:status_port/status: "Up"
  if it answers, else "Down".
Probes run in parallel with short timeouts.
"""
import json
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor

from tests.sandbox.tiup.runtime import bind_host, reachable
from tests.sandbox.tiup.spec import join_host_port

_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


class HTTPFailure(Exception):
    pass


def http_get(url, timeout):
    try:
        with _OPENER.open(url, timeout=timeout) as resp:
            body = resp.read()
            if resp.status < 200 or resp.status >= 400:
                raise HTTPFailure("error requesting %s, code %d" % (url, resp.status))
            return body
    except urllib.error.HTTPError as exc:
        raise HTTPFailure("error requesting %s, response: %s, code %d"
                          % (url, exc.read().decode("utf-8", "replace"), exc.code))
    except (urllib.error.URLError, OSError, ValueError) as exc:
        raise HTTPFailure(str(exc))


def try_urls(addrs, uri, timeout):
    err = HTTPFailure("no endpoint available")
    for addr in addrs:
        try:
            return http_get("http://%s/%s" % (addr, uri), timeout)
        except HTTPFailure as exc:
            err = exc
    raise err


def pd_status(inst, timeout):
    if not reachable(inst.manage_host):
        return "Down"  # nothing of the sandbox runs there
    addr = "%s:%d" % (bind_host(inst.manage_host), inst.spec["client_port"])
    try:
        http_get("http://%s/pd/ping" % addr, timeout)
    except HTTPFailure:
        return "Down"
    try:
        leader = json.loads(http_get("http://%s/pd/api/v1/leader" % addr, timeout))
    except (HTTPFailure, ValueError):
        return "ERR"
    status = "Up"
    if leader.get("name") == inst.name:
        status += "|L"
    return status


def dashboard_address(pd_addrs, timeout):
    try:
        cfg = json.loads(try_urls(pd_addrs, "pd/api/v1/config", timeout))
    except (HTTPFailure, ValueError):
        return None
    addr = (cfg.get("pd-server") or {}).get("dashboard-address")
    if not isinstance(addr, str):
        return None
    return addr.replace("http://", "").replace("https://", "")


def tidb_status(inst, timeout):
    """TiDB and TiCDC alike: statusByHost(host, status port, "/status")."""
    if not reachable(inst.manage_host):
        return "Down"
    try:
        body = http_get("http://%s:%d/status" % (bind_host(inst.manage_host), inst.status_port),
                        timeout)
    except HTTPFailure:
        return "Down"
    return "Up" if body is not None else "Down"


def tikv_status(inst, stores, stores_error, pd_active):
    if not pd_active:
        return "N/A"
    if stores_error:
        return "Down"
    address = inst.spec.get("advertise_addr") or join_host_port(inst.host, inst.spec["port"])
    latest = None
    for store in stores:
        meta = store.get("store") or {}
        if meta.get("address") != address:
            continue
        if meta.get("state_name") != "Tombstone":
            return meta.get("state_name", "")
        if latest is None or meta.get("id", 0) > latest.get("id", 0):
            latest = meta
    if latest is not None:
        return latest.get("state_name", "")
    return "N/A"


def cluster_status(topology, timeout, concurrency=8):
    """{instance id: status}, plus the dashboard address (host:port or None)."""
    if timeout < 1:
        timeout = 10
    statuses = {}
    pds = topology.instances("pd")
    with ThreadPoolExecutor(max_workers=max(1, concurrency)) as pool:
        for inst, status in zip(pds, pool.map(lambda i: pd_status(i, timeout), pds)):
            statuses[inst.id] = status
        active = ["%s:%d" % (bind_host(i.manage_host), i.spec["client_port"])
                  for i in pds if statuses[i.id].startswith("Up")]
        dash_future = pool.submit(dashboard_address, active, timeout) if active else None
        stores, stores_error = [], False
        tikvs = topology.instances("tikv")
        if active and tikvs:
            try:
                stores = json.loads(try_urls(active, "pd/api/v1/stores?state=0&state=1&state=2",
                                             timeout)).get("stores") or []
            except (HTTPFailure, ValueError):
                stores_error = True
        for inst in tikvs:
            statuses[inst.id] = tikv_status(inst, stores, stores_error, bool(active))
        tidbs = topology.instances("tidb") + topology.instances("cdc")
        for inst, status in zip(tidbs, pool.map(lambda i: tidb_status(i, timeout), tidbs)):
            statuses[inst.id] = status
        dashboard = dash_future.result() if dash_future else None
    return statuses, dashboard, active
