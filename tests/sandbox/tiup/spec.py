"""The cluster topology like tiup's pkg/cluster/spec: strict decoding (yaml.v3 with
KnownFields), defaults, validation with tiup's error texts, instance model, meta.yaml.

Only pd_servers, tikv_servers, tidb_servers and cdc_servers can hold instances in the
sandbox; the other instance lists are known keys but must be empty (the sandbox does not
emulate them).
"""
import os
import re

import yaml

from tests.sandbox.tiup import env as tiup_env
from tests.sandbox.tiup.printer import TiupError, TypedError
from tests.sandbox.tiup.yamlout import Struct, dump

# ---- schema ------------------------------------------------------------------------------
# (yaml key, type, omitempty, default). Types: str int bool map any strmap
# struct:<Name> list:<Name>

RESOURCE_CONTROL = [
    ("memory_limit", "str", True, None), ("cpu_quota", "str", True, None),
    ("io_read_bandwidth_max", "str", True, None), ("io_write_bandwidth_max", "str", True, None),
    ("limit_core", "str", True, None), ("timeout_stop_sec", "str", True, None),
    ("timeout_start_sec", "str", True, None),
]

GLOBAL = [
    ("user", "str", True, "tidb"), ("group", "str", True, None),
    ("ssh_port", "int", True, 22), ("ssh_type", "str", True, "builtin"),
    ("enable_tls", "bool", True, None), ("listen_host", "str", True, None),
    ("deploy_dir", "str", True, "deploy"), ("data_dir", "str", True, "data"),
    ("log_dir", "str", True, None), ("resource_control", "struct:ResourceControl", True, None),
    ("os", "str", True, "linux"), ("arch", "str", True, None), ("custom", "any", True, None),
    ("systemd_mode", "str", True, "system"), ("pd_mode", "str", True, None),
]

MONITORED = [
    ("node_exporter_port", "int", True, 9100), ("blackbox_exporter_port", "int", True, 9115),
    ("node_exporter_version", "str", True, None), ("blackbox_exporter_version", "str", True, None),
    ("deploy_dir", "str", True, None), ("data_dir", "str", True, None),
    ("log_dir", "str", True, None), ("numa_node", "str", True, None),
    ("resource_control", "struct:ResourceControl", True, None),
]

COMPONENT_VERSIONS = [(k, "str", True, None) for k in (
    "tidb", "tikv", "tiflash", "pd", "tso", "scheduling", "resource_manager", "router",
    "tidb_dashboard", "pump", "drainer", "cdc", "kvcdc", "tiproxy", "prometheus", "grafana",
    "alertmanager")]

COMPONENT_SOURCES = [(k, "str", True, None) for k in (
    "tidb", "tikv", "tiflash", "pd", "tidb_dashboard", "pump", "drainer", "cdc", "kvcdc")]

SERVER_CONFIGS = [(k, "strmap" if k == "grafana" else "map", False, None) for k in (
    "tidb", "tikv", "pd", "tso", "scheduling", "resource_manager", "router", "tidb_dashboard",
    "tiflash", "tiproxy", "tiflash-learner", "pump", "drainer", "cdc", "kvcdc", "grafana",
    "ng_monitoring")]

PD_SPEC = [
    ("host", "str", False, None), ("manage_host", "str", True, None),
    ("listen_host", "str", True, None), ("advertise_client_addr", "str", True, None),
    ("advertise_peer_addr", "str", True, None), ("ssh_port", "int", True, None),
    ("patched", "bool", True, None), ("ignore_exporter", "bool", True, None),
    ("name", "str", False, None), ("client_port", "int", False, 2379),
    ("peer_port", "int", False, 2380), ("deploy_dir", "str", True, None),
    ("data_dir", "str", True, None), ("log_dir", "str", True, None),
    ("source", "str", True, None), ("numa_node", "str", True, None),
    ("config", "map", True, None), ("resource_control", "struct:ResourceControl", True, None),
    ("arch", "str", True, None), ("os", "str", True, None),
]

TIKV_SPEC = [
    ("host", "str", False, None), ("manage_host", "str", True, None),
    ("listen_host", "str", True, None), ("advertise_addr", "str", True, None),
    ("ssh_port", "int", True, None), ("patched", "bool", True, None),
    ("ignore_exporter", "bool", True, None), ("port", "int", False, 20160),
    ("status_port", "int", False, 20180), ("advertise_status_addr", "str", True, None),
    ("deploy_dir", "str", True, None), ("data_dir", "str", True, None),
    ("log_dir", "str", True, None), ("offline", "bool", True, None),
    ("source", "str", True, None), ("numa_node", "str", True, None),
    ("numa_cores", "str", True, None), ("config", "map", True, None),
    ("resource_control", "struct:ResourceControl", True, None),
    ("arch", "str", True, None), ("os", "str", True, None),
]

TIDB_SPEC = [
    ("host", "str", False, None), ("manage_host", "str", True, None),
    ("listen_host", "str", True, None), ("advertise_address", "str", True, None),
    ("ssh_port", "int", True, None), ("patched", "bool", True, None),
    ("ignore_exporter", "bool", True, None), ("port", "int", False, 4000),
    ("status_port", "int", False, 10080), ("deploy_dir", "str", True, None),
    ("log_dir", "str", True, None), ("source", "str", True, None),
    ("numa_node", "str", True, None), ("numa_cores", "str", True, None),
    ("config", "map", True, None), ("resource_control", "struct:ResourceControl", True, None),
    ("arch", "str", True, None), ("os", "str", True, None),
]

# pkg/cluster/spec/cdc.go CDCSpec (ticdc_cluster_id has no omitempty)
CDC_SPEC = [
    ("host", "str", False, None), ("manage_host", "str", True, None),
    ("ssh_port", "int", True, None), ("patched", "bool", True, None),
    ("ignore_exporter", "bool", True, None), ("port", "int", False, 8300),
    ("deploy_dir", "str", True, None), ("data_dir", "str", True, None),
    ("log_dir", "str", True, None), ("offline", "bool", True, None),
    ("gc-ttl", "int", True, None), ("tz", "str", True, None),
    ("ticdc_cluster_id", "str", False, None), ("source", "str", True, None),
    ("numa_node", "str", True, None), ("config", "map", True, None),
    ("resource_control", "struct:ResourceControl", True, None),
    ("arch", "str", True, None), ("os", "str", True, None),
]

# Instance lists the sandbox does not run: known keys (so no "field not found"), but they
# must be empty.
UNSUPPORTED_LISTS = {
    "tiflash_servers": "TiFlashSpec", "tiproxy_servers": "TiProxySpec",
    "tso_servers": "TSOSpec", "scheduling_servers": "SchedulingSpec",
    "resource_manager_servers": "ResourceManagerSpec", "router_servers": "RouterSpec",
    "tidb_dashboard_servers": "DashboardSpec", "pump_servers": "PumpSpec",
    "drainer_servers": "DrainerSpec", "kvcdc_servers": "TiKVCDCSpec",
    "tispark_masters": "TiSparkMasterSpec", "tispark_workers": "TiSparkWorkerSpec",
    "monitoring_servers": "PrometheusSpec", "grafana_servers": "GrafanaSpec",
    "alertmanager_servers": "AlertmanagerSpec",
}

TOPOLOGY = [
    ("global", "struct:GlobalOptions", True, None),
    ("monitored", "struct:MonitoredOptions", True, None),
    ("component_versions", "struct:ComponentVersions", True, None),
    ("component_sources", "struct:ComponentSources", True, None),
    ("server_configs", "struct:ServerConfigs", True, None),
    ("tidb_servers", "list:TiDBSpec", False, None),
    ("tikv_servers", "list:TiKVSpec", False, None),
    ("tiflash_servers", "list:TiFlashSpec", False, None),
    ("tiproxy_servers", "list:TiProxySpec", False, None),
    ("pd_servers", "list:PDSpec", False, None),
    ("tso_servers", "list:TSOSpec", True, None),
    ("scheduling_servers", "list:SchedulingSpec", True, None),
    ("resource_manager_servers", "list:ResourceManagerSpec", True, None),
    ("router_servers", "list:RouterSpec", True, None),
    ("tidb_dashboard_servers", "list:DashboardSpec", True, None),
    ("pump_servers", "list:PumpSpec", True, None),
    ("drainer_servers", "list:DrainerSpec", True, None),
    ("cdc_servers", "list:CDCSpec", True, None),
    ("kvcdc_servers", "list:TiKVCDCSpec", True, None),
    ("tispark_masters", "list:TiSparkMasterSpec", True, None),
    ("tispark_workers", "list:TiSparkWorkerSpec", True, None),
    ("monitoring_servers", "list:PrometheusSpec", False, None),
    ("grafana_servers", "list:GrafanaSpec", True, None),
    ("alertmanager_servers", "list:AlertmanagerSpec", True, None),
]

STRUCTS = {
    "ResourceControl": ("meta.ResourceControl", RESOURCE_CONTROL),
    "GlobalOptions": ("spec.GlobalOptions", GLOBAL),
    "MonitoredOptions": ("spec.MonitoredOptions", MONITORED),
    "ComponentVersions": ("spec.ComponentVersions", COMPONENT_VERSIONS),
    "ComponentSources": ("spec.ComponentSources", COMPONENT_SOURCES),
    "ServerConfigs": ("spec.ServerConfigs", SERVER_CONFIGS),
    "PDSpec": ("spec.PDSpec", PD_SPEC),
    "TiKVSpec": ("spec.TiKVSpec", TIKV_SPEC),
    "TiDBSpec": ("spec.TiDBSpec", TIDB_SPEC),
    "CDCSpec": ("spec.CDCSpec", CDC_SPEC),
    "Topology": ("spec.topology", TOPOLOGY),
}

# Start order of every component tiup knows (spec.AllComponentNames()).
ALL_COMPONENT_NAMES = [
    "pd", "tso", "scheduling", "router", "resource-manager", "tidb-dashboard", "tiproxy",
    "tikv", "pump", "tidb", "tiflash", "drainer", "cdc", "tikv-cdc", "prometheus", "grafana",
    "alertmanager", "tispark-master", "tispark-worker",
]

# The components the sandbox runs, in start order, with their list key.
RUN_ORDER = [("pd", "pd_servers"), ("tikv", "tikv_servers"), ("tidb", "tidb_servers"),
             ("cdc", "cdc_servers")]
LIST_ROLE = {key: comp for comp, key in RUN_ORDER}
SPEC_NAMES = {"pd_servers": "PDSpec", "tikv_servers": "TiKVSpec", "tidb_servers": "TiDBSpec",
              "cdc_servers": "CDCSpec"}

# port field order in portConflictsDetect
PORT_TYPES = ["port", "status_port", "peer_port", "client_port", "web_port", "tcp_port",
              "http_port", "flash_service_port", "flash_proxy_port",
              "flash_proxy_status_port", "cluster_port", "ng_port"]


def _zero(kind):
    if kind == "str":
        return ""
    if kind == "int":
        return 0
    if kind == "bool":
        return False
    if kind.startswith("list:"):
        return []
    if kind.startswith("struct:"):
        return {}
    return None


# ---- strict decoding -----------------------------------------------------------------------

_TAG = re.compile(r"^tag:yaml.org,2002:(.*)$")


def _short_tag(tag):
    match = _TAG.match(tag or "")
    return "!!" + match.group(1) if match else (tag or "")


def _go_type(kind):
    if kind == "str":
        return "string"
    if kind == "int":
        return "int"
    if kind == "bool":
        return "bool"
    if kind in ("map", "any"):
        return "map[string]interface {}"
    if kind == "strmap":
        return "map[string]string"
    if kind.startswith("list:"):
        return "[]*" + STRUCTS.get(kind[5:], ("spec." + kind[5:],))[0]
    if kind.startswith("struct:"):
        return STRUCTS[kind[7:]][0]
    return kind


class _Decoder(object):
    def __init__(self, strict):
        self.strict = strict
        self.errors = []

    def terror(self, node, go_type):
        tag = node.tag
        value = ""
        if not isinstance(node, (yaml.MappingNode, yaml.SequenceNode)):
            text = node.value
            value = " `" + (text[:7] + "..." if len(text) > 10 else text) + "`"
        self.errors.append("line %d: cannot unmarshal %s%s into %s"
                           % (node.start_mark.line + 1, _short_tag(tag), value, go_type))

    @staticmethod
    def is_null(node):
        return isinstance(node, yaml.ScalarNode) and node.tag.endswith(":null")

    def value(self, node, kind):
        if self.is_null(node):
            return _zero(kind)
        if kind == "str":
            if not isinstance(node, yaml.ScalarNode):
                self.terror(node, "string")
                return ""
            return node.value
        if kind == "int":
            if not isinstance(node, yaml.ScalarNode) or not node.tag.endswith(":int"):
                self.terror(node, "int")
                return 0
            try:
                return int(yaml.safe_load(node.value))
            except (ValueError, TypeError, yaml.YAMLError):
                self.terror(node, "int")
                return 0
        if kind == "bool":
            if isinstance(node, yaml.ScalarNode):
                low = node.value
                if low in ("true", "True", "TRUE", "y", "Y", "yes", "Yes", "YES", "on", "On", "ON"):
                    return True
                if low in ("false", "False", "FALSE", "n", "N", "no", "No", "NO", "off", "Off", "OFF"):
                    return False
            self.terror(node, "bool")
            return False
        if kind in ("map", "strmap"):
            if not isinstance(node, yaml.MappingNode):
                self.terror(node, _go_type(kind))
                return {}
            data = _construct(node)
            if kind == "strmap":
                return {str(k): ("" if v is None else str(v)) for k, v in data.items()}
            return data
        if kind == "any":
            return _construct(node)
        if kind.startswith("struct:"):
            return self.struct(node, kind[7:])
        if kind.startswith("list:"):
            name = kind[5:]
            if not isinstance(node, yaml.SequenceNode):
                self.terror(node, _go_type(kind))
                return []
            items = []
            for item in node.value:
                if self.is_null(item):
                    continue
                items.append(self.struct(item, name))
            return items
        raise AssertionError(kind)

    def struct(self, node, name):
        go_name, fields = STRUCTS.get(name, ("spec." + name, None))
        if not isinstance(node, yaml.MappingNode):
            self.terror(node, go_name)
            return {}
        out = {}
        seen = {}
        table = {f[0]: f for f in fields} if fields is not None else {}
        for key_node, value_node in node.value:
            key = key_node.value if isinstance(key_node, yaml.ScalarNode) else str(key_node.value)
            if key in seen:
                self.errors.append('line %d: mapping key "%s" already defined at line %d'
                                   % (key_node.start_mark.line + 1, key, seen[key]))
                continue
            seen[key] = key_node.start_mark.line + 1
            field = table.get(key)
            if field is None:
                if fields is None:
                    # an instance spec of a component the sandbox does not run: keep raw
                    out[key] = _construct(value_node)
                    continue
                if self.strict:
                    self.errors.append("line %d: field %s not found in type %s"
                                       % (key_node.start_mark.line + 1, key, go_name))
                continue
            out[key] = self.value(value_node, field[1])
        return out


def _construct(node):
    loader = yaml.SafeLoader("")
    try:
        return loader.construct_object(node, deep=True)
    finally:
        loader.dispose()


def fold_map(data):
    """spec.FoldMap: keys with dots become nested maps."""
    if not isinstance(data, dict):
        return data
    out = {}
    for key, value in data.items():
        value = fold_map(value)
        parts = str(key).split(".")
        cur = out
        for part in parts[:-1]:
            nxt = cur.get(part)
            if not isinstance(nxt, dict):
                nxt = {}
                cur[part] = nxt
            cur = nxt
        last = parts[-1]
        if isinstance(value, dict) and isinstance(cur.get(last), dict):
            cur[last].update(value)
        else:
            cur[last] = value
    return out


def value_from_path(data, path):
    cur = fold_map(data or {})
    for part in path.split("."):
        if not isinstance(cur, dict) or part not in cur:
            return None
        cur = cur[part]
    return cur


# ---- topology ------------------------------------------------------------------------------

class Instance(object):
    """One instance of the topology (spec.Instance)."""

    def __init__(self, role, spec, topo):
        self.role = role
        self.spec = spec
        self.topo = topo

    @property
    def component(self):
        return self.role

    @property
    def host(self):
        return self.spec["host"]

    @property
    def manage_host(self):
        return self.spec.get("manage_host") or self.spec["host"]

    @property
    def port(self):
        return self.spec["client_port"] if self.role == "pd" else self.spec["port"]

    @property
    def id(self):
        return join_host_port(self.host, self.port)

    @property
    def ports(self):
        if self.role == "pd":
            return [self.spec["client_port"], self.spec["peer_port"]]
        if self.role == "cdc":
            return [self.spec["port"]]  # TiCDC serves its HTTP API on its one port
        return [self.spec["port"], self.spec["status_port"]]

    @property
    def status_port(self):
        if self.role == "cdc":
            return self.spec["port"]
        return self.spec["peer_port"] if self.role == "pd" else self.spec["status_port"]

    @property
    def name(self):
        return self.spec.get("name", "")

    @property
    def deploy_dir(self):
        return self.spec.get("deploy_dir", "")

    @property
    def data_dir(self):
        return self.spec.get("data_dir") if self.role != "tidb" else None

    @property
    def log_dir(self):
        log_dir = self.spec.get("log_dir") or "log"
        if not log_dir.startswith("/"):
            log_dir = os.path.join(self.deploy_dir, log_dir)
        return log_dir

    @property
    def used_dirs(self):
        dirs = [self.deploy_dir]
        if self.role != "tidb":
            dirs.append(self.data_dir)
        return dirs

    @property
    def service_name(self):
        return "%s-%d.service" % (self.role, self.port)

    @property
    def os(self):
        return self.spec.get("os") or ""

    @property
    def arch(self):
        return self.spec.get("arch") or ""

    def version(self, cluster_version):
        override = (self.topo.data.get("component_versions") or {}).get(self.role)
        return override or cluster_version

    def __repr__(self):
        return "<%s %s>" % (self.role, self.id)


def join_host_port(host, port):
    if ":" in host:
        return "[%s]:%d" % (host, port)
    return "%s:%d" % (host, port)


class Topology(object):
    def __init__(self, data):
        self.data = data

    @property
    def global_options(self):
        return self.data["global"]

    @property
    def user(self):
        return self.data["global"].get("user") or "tidb"

    def instances(self, role=None):
        out = []
        for comp, key in RUN_ORDER:
            if role and comp != role:
                continue
            for spec in self.data.get(key) or []:
                out.append(Instance(comp, spec, self))
        return out

    def by_role(self):
        return [(comp, [Instance(comp, s, self) for s in self.data.get(key) or []])
                for comp, key in RUN_ORDER]

    def pd_instances(self):
        return self.instances("pd")

    def to_struct(self):
        return _to_struct(self.data, "Topology")

    def expand_relative_dirs(self):
        """spec.ExpandRelativeDir: deploy_dir absolute (under /home/<user>), data/log dirs
        relative to the deploy dir."""
        user = self.user
        targets = [self.data["monitored"]]
        for dummy, key in RUN_ORDER:
            targets.extend(self.data.get(key) or [])
        for spec in targets:
            if spec.get("deploy_dir"):
                spec["deploy_dir"] = abs_path(user, spec["deploy_dir"])
            if spec.get("data_dir"):
                dirs = []
                for one in spec["data_dir"].split(","):
                    dirs.append(one if one.startswith("/")
                                else os.path.normpath(os.path.join(spec.get("deploy_dir", ""), one)))
                spec["data_dir"] = ",".join(dirs)
            if spec.get("log_dir") and not spec["log_dir"].startswith("/"):
                spec["log_dir"] = os.path.normpath(os.path.join(spec.get("deploy_dir", ""),
                                                                spec["log_dir"]))

    def fill_arch_os(self, arch, os_name):
        for inst in self.instances():
            if not inst.spec.get("arch"):
                inst.spec["arch"] = arch
            if not inst.spec.get("os"):
                inst.spec["os"] = os_name

    def location_labels(self):
        for pd in self.data.get("pd_servers") or []:
            if value_from_path(pd.get("config"), "replication.location-labels") is not None:
                raise TiupError("replication.location-labels can't be defined in instance %s:%d, "
                                "please move it to the global server_configs field"
                                % (pd["host"], pd["client_port"]))
        labels = value_from_path((self.data.get("server_configs") or {}).get("pd"),
                                 "replication.location-labels")
        out = []
        for label in labels or []:
            if not isinstance(label, str):
                raise TiupError("replication.location-labels contains non-string label: %s" % label)
            out.append(label)
        return out

    def tikv_labels(self, spec):
        labels = value_from_path(spec.get("config"), "server.labels")
        out = {}
        if isinstance(labels, dict):
            for key, value in labels.items():
                if not isinstance(key, str):
                    raise TiupError("TiKV label name %s is not a string, check the instance: %s:%d"
                                    % (key, spec["host"], spec["port"]))
                if not isinstance(value, str):
                    raise TiupError("TiKV label value %s is not a string, check the instance: %s:%d"
                                    % (value, spec["host"], spec["port"]))
                out[key] = value
        return out

    def check_tikv_labels(self, pd_labels):
        """spec.CheckTiKVLabels; returns the TiKVLabelError text or ''."""
        store_labels = {}
        for spec in self.data.get("tikv_servers") or []:
            store_labels[join_host_port(spec["host"], spec["port"])] = self.tikv_labels(spec)
        hosts = {}
        for addr in store_labels:
            host = addr.rsplit(":", 1)[0]
            hosts[host] = hosts.get(host, 0) + 1
        problems = {}
        for addr, labels in store_labels.items():
            host = addr.rsplit(":", 1)[0]
            if not labels and hosts[host] > 1:
                problems.setdefault(addr, []).append(
                    "multiple TiKV instances are deployed at the same host but location label missing")
                continue
            for name in labels:
                if name not in pd_labels:
                    problems.setdefault(addr, []).append(
                        "label name '%s' is not specified in pd config (replication.location-labels: [%s])"
                        % (name, " ".join(pd_labels)))
        text = ""
        for addr in sorted(problems):
            text += "%s:\n" % addr
            for msg in sorted(problems[addr]):
                text += "\t%s\n" % msg
        return text


def abs_path(user, path):
    """spec.Abs: relative paths are under /home/<user>."""
    user = user.strip()
    path = path.strip()
    if not path.startswith("/"):
        path = os.path.join("/home", user, path)
    return os.path.normpath(path)


def _to_struct(data, name):
    fields = STRUCTS[name][1]
    out = Struct()
    for key, kind, omitempty, _default in fields:
        value = data.get(key, _zero(kind))
        if kind.startswith("struct:"):
            sub = _to_struct(value or {}, kind[7:])
            if omitempty and all(_is_zero(v) for dummy, v in sub.items):
                continue
            out.add(key, sub)
            continue
        if kind.startswith("list:"):
            sub_name = kind[5:]
            items = []
            for item in value or []:
                items.append(_to_struct(item, sub_name) if sub_name in STRUCTS else item)
            if omitempty and not items:
                continue
            out.add(key, items)
            continue
        if omitempty and _is_zero(value):
            continue
        if kind in ("map", "strmap") and value is None:
            value = {}
        out.add(key, value)
    return out


def _is_zero(value):
    if isinstance(value, Struct):
        return all(_is_zero(v) for dummy, v in value.items)
    return value in (None, "", 0, False) or (isinstance(value, (list, dict)) and not value)


def _apply_defaults(data, name):
    for key, kind, _omit, default in STRUCTS[name][1]:
        if kind.startswith("struct:"):
            data[key] = data.get(key) or {}
            _apply_defaults(data[key], kind[7:])
        elif default is not None and not data.get(key):
            data[key] = default


def parse_topology_text(text, source, strict=True):
    """Decode, default and validate a topology (spec.ParseTopologyYaml + UnmarshalYAML).

    Raises TypedError(topology.parse_failed) with the cause tiup would give."""
    suggestion = ("Please check the syntax of your topology file %s and try again." % source)

    def failed(cause):
        return TypedError("topology.parse_failed", "Failed to parse topology file %s" % source,
                          cause=TiupError(cause), suggestion=suggestion, precheck=True)

    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None) or str(exc)
        if mark is not None:
            raise failed("yaml: line %d: %s" % (mark.line + 1, problem))
        raise failed("yaml: %s" % problem)
    decoder = _Decoder(strict)
    if node is None:
        data = {}
    else:
        data = decoder.struct(node, "Topology")
    if decoder.errors:
        raise failed("yaml: unmarshal errors:\n  " + "\n  ".join(decoder.errors))
    for key, kind, _o, _d in TOPOLOGY:
        if key not in data:
            data[key] = _zero(kind)
    for key in UNSUPPORTED_LISTS:
        if data.get(key):
            raise failed("sandbox: %s is not emulated by the TiDB sandbox (only pd_servers, "
                         "tikv_servers, tidb_servers and cdc_servers can hold instances)" % key)
    _apply_defaults(data, "Topology")
    for _comp, key in RUN_ORDER:
        spec_name = SPEC_NAMES[key]
        for spec in data[key]:
            for fkey, _kind, _o, default in STRUCTS[spec_name][1]:
                if default is not None and not spec.get(fkey):
                    spec[fkey] = default
    _monitored_dirs(data)
    _custom_defaults(data)
    try:
        validate(data)
    except TiupError as exc:
        raise failed(exc.error_string())
    return Topology(data)


def _monitored_dirs(data):
    glob = data["global"]
    mon = data["monitored"]
    if not mon.get("deploy_dir"):
        mon["deploy_dir"] = os.path.join(glob["deploy_dir"], "monitor-%d" % mon["node_exporter_port"])
    if not mon.get("data_dir"):
        mon["data_dir"] = os.path.join(glob["data_dir"], "monitor-%d" % mon["node_exporter_port"])
    if not mon.get("log_dir"):
        mon["log_dir"] = "log"
    if not mon["log_dir"].startswith("/") and not mon["log_dir"].startswith(mon["deploy_dir"]):
        mon["log_dir"] = os.path.join(mon["deploy_dir"], mon["log_dir"])


def _custom_defaults(data):
    glob = data["global"]
    for comp, key in RUN_ORDER:
        for spec in data[key]:
            if not spec.get("ssh_port"):
                spec["ssh_port"] = glob["ssh_port"]
            port = spec["client_port"] if comp == "pd" else spec["port"]
            if comp == "pd" and not spec.get("name"):
                spec["name"] = "pd-%s-%d" % (spec.get("host", ""), spec["client_port"])
            if comp != "tidb" and not spec.get("data_dir"):
                if glob["data_dir"].startswith("/"):
                    spec["data_dir"] = os.path.join(glob["data_dir"], "%s-%d" % (comp, port))
                else:
                    spec["data_dir"] = glob["data_dir"] or "data"
            if not spec.get("deploy_dir"):
                spec["deploy_dir"] = os.path.join(glob["deploy_dir"], "%s-%d" % (comp, port))
            if not spec.get("log_dir"):
                if (glob.get("log_dir") or "").startswith("/"):
                    spec["log_dir"] = os.path.join(glob["log_dir"], "%s-%d" % (comp, port))
                else:
                    spec["log_dir"] = glob.get("log_dir") or "log"
            arch = (spec.get("arch") or "").lower()
            arch = {"x86_64": "amd64", "aarch64": "arm64"}.get(arch, arch)
            if arch:
                spec["arch"] = arch
            if spec.get("os"):
                spec["os"] = spec["os"].lower()


_RE_USER = re.compile(r"^[a-z_]([a-z0-9_-]{0,31}|[a-z0-9_-]{0,30}\$)$")
_RE_GROUP = re.compile(r"^[a-z_]([a-z0-9_-]{0,15})$")
_USER_GROUP_INVALID = ("linux username and groupname must start with a lower case letter or an "
                       "underscore, followed by lower case letters, digits, underscores, or dashes. "
                       "Usernames may only be up to 32 characters long. Groupnames may only be up to "
                       "16 characters long.")


def _instance_lists(data):
    """(yaml key, spec) for every instance, in the field order of Specification."""
    out = []
    for key, kind, _o, _d in TOPOLOGY:
        if kind.startswith("list:"):
            for spec in data.get(key) or []:
                out.append((key, spec))
    return out


def validate(data):
    """Specification.Validate with tiup's error texts."""
    glob = data["global"]
    if glob.get("enable_tls"):
        raise TiupError("sandbox: enable_tls is not emulated by the TiDB sandbox")
    # platformConflictsDetect
    platform = {}
    for key, spec in _instance_lists(data):
        host = spec.get("host", "")
        if not host:
            raise TiupError("`%s` contains empty host field" % key)
        stat = (spec.get("os", ""), spec.get("arch", ""), key)
        prev = platform.get(host)
        if prev and (prev[0], prev[1]) != (stat[0], stat[1]):
            raise TiupError("platform mismatch for '%s' between '%s:%s/%s' and '%s:%s/%s'"
                            % (host, prev[2], prev[0], prev[1], key, stat[0], stat[1]))
        platform[host] = stat
    # portInvalidDetect
    for key, kind, _o, _d in TOPOLOGY:
        if kind.startswith("struct:") and kind[7:] in ("GlobalOptions", "MonitoredOptions"):
            for fkey, fkind, _o2, _d2 in STRUCTS[kind[7:]][1]:
                if fkey.endswith("_port") and fkind == "int":
                    _check_port(key, fkey, data[key].get(fkey, 0))
        elif kind.startswith("list:"):
            fields = STRUCTS.get(kind[5:], (None, None))[1]
            for spec in data.get(key) or []:
                for fkey, fkind, _o2, _d2 in fields or []:
                    if fkey.endswith("_port") and fkind == "int":
                        _check_port(key, fkey, spec.get(fkey, 0))
    # portConflictsDetect
    used = {}
    hosts = []
    for key, spec in _instance_lists(data):
        host = spec["host"]
        if host not in hosts:
            hosts.append(host)
        for ptype in PORT_TYPES:
            if ptype not in spec:
                continue
            item = (host, spec[ptype])
            if item in used:
                prev = used[item]
                raise TiupError("port conflict for '%d' between '%s:%s.%s' and '%s:%s.%s'"
                                % (spec[ptype], prev[0], host, prev[1], key, host, ptype))
            used[item] = (key, ptype)
    mon = data["monitored"]
    for host in sorted(hosts):
        for ptype in ("node_exporter_port", "blackbox_exporter_port"):
            item = (host, mon[ptype])
            if item in used:
                prev = used[item]
                raise TiupError("port conflict for '%d' between '%s:%s.%s' and '%s:%s.%s'"
                                % (mon[ptype], prev[0], host, prev[1], "monitored", host, ptype))
            used[item] = ("monitored", ptype)
    # dirConflictsDetect
    dirs = {}
    for key, spec in _instance_lists(data):
        host = spec["host"]
        for dtype in ("data_dir", "deploy_dir"):
            if dtype not in spec:
                continue
            for one in str(spec[dtype]).split(","):
                one = one.strip()
                if one != "" and not one.startswith("/"):
                    continue
                item = (host, one)
                if item in dirs:
                    prev = dirs[item]
                    raise TiupError("directory conflict for '%s' between '%s:%s.%s' and '%s:%s.%s'"
                                    % (one, prev[0], host, prev[1], key, host, dtype))
                dirs[item] = (key, dtype)
    # validateUserGroup
    if not _RE_USER.match(glob.get("user", "")):
        raise TiupError("`global` of user='%s' is invalid: %s" % (glob.get("user", ""), _USER_GROUP_INVALID))
    if glob.get("group") and not _RE_GROUP.match(glob["group"]):
        raise TiupError("`global` of group='%s' is invalid: %s" % (glob["group"], _USER_GROUP_INVALID))
    # validatePDNames
    names = set()
    for pd in data.get("pd_servers") or []:
        if not pd.get("name"):
            continue
        if pd["name"] in names:
            raise TiupError("component pd_servers.name is not supported duplicated, the name %s "
                            "is duplicated" % pd["name"])
        names.add(pd["name"])
    # validateMonitorAgent
    agents = {}
    for key, spec in _instance_lists(data):
        stat = (bool(spec.get("ignore_exporter")), key)
        prev = agents.get(spec["host"])
        if prev and prev[0] != stat[0]:
            raise TiupError("ignore_exporter mismatch for '%s' between '%s:%s' and '%s:%s'"
                            % (spec["host"], prev[1], str(prev[0]).lower(), key, str(stat[0]).lower()))
        agents[spec["host"]] = stat


def _check_port(cfg, field, port):
    if port < 1 or port > 65535:
        raise TiupError("`%s` of %s=%d is invalid, port should be in the range [1, 65535]"
                        % (cfg, field, port))


def read_topology_file(path):
    try:
        with open(path) as handle:
            return handle.read()
    except OSError as exc:
        raise TypedError(
            "topology.read_failed", "Failed to read topology file %s" % path,
            cause=TiupError("open %s: %s" % (path, _os_error_text(exc))),
            suggestion=("Please check whether your topology file %s exists and try again.\n\n"
                        "To generate a sample topology file:\n  tiup cluster template topology > topo.yaml"
                        % path),
            precheck=True)


def _os_error_text(exc):
    import errno
    return {errno.ENOENT: "no such file or directory", errno.EACCES: "permission denied",
            errno.EISDIR: "is a directory"}.get(exc.errno, exc.strerror or str(exc))


# ---- meta.yaml -----------------------------------------------------------------------------

class Meta(object):
    def __init__(self, name, user, version, ops_ver, topology):
        self.name = name
        self.user = user
        self.version = version
        self.ops_ver = ops_ver
        self.topology = topology

    def dump(self):
        doc = Struct([("user", self.user), ("tidb_version", self.version)])
        if self.ops_ver:
            doc.add("last_ops_ver", self.ops_ver)
        doc.add("topology", self.topology.to_struct())
        return dump(doc)


def cluster_exists(name):
    return os.path.isfile(tiup_env.cluster_dir(name, "meta.yaml"))


def list_clusters():
    base = tiup_env.clusters_dir()
    try:
        names = sorted(os.listdir(base))
    except OSError:
        return []
    return [n for n in names if os.path.isdir(os.path.join(base, n))]


def load_meta(name):
    path = tiup_env.cluster_dir(name, "meta.yaml")
    with open(path) as handle:
        text = handle.read()
    raw = yaml.safe_load(text) or {}
    topo_text = yaml.safe_dump(raw.get("topology") or {}, default_flow_style=False)
    topology = parse_topology_text(topo_text, path, strict=False)
    return Meta(name, raw.get("user", ""), raw.get("tidb_version", ""),
                raw.get("last_ops_ver", ""), topology)


def save_meta(meta):
    directory = tiup_env.cluster_dir(meta.name)
    os.makedirs(directory, exist_ok=True)
    path = os.path.join(directory, "meta.yaml")
    tmp = path + ".tmp"
    with open(tmp, "w") as handle:
        handle.write(meta.dump())
    os.replace(tmp, path)
    os.chmod(path, 0o644)
