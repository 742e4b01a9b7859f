# -*- coding: utf-8 -*-
# Copyright: (c) 2026, tidbops.manager contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""TiUP topology files: shape checks before tiup sees them, instance ids, and drift.

Only what must be known before calling tiup is checked here (so bad input fails before
anything changes); tiup itself remains the judge of everything else.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import re

from ansible_collections.tidbops.manager.plugins.module_utils.errors import TidbOpsError

# topology key -> (role name as display shows it, the port that names an instance, its default),
# for every instance list tiup's spec.Specification accepts (pkg/cluster/spec/*.go: Role() and
# the port's default tag; TiKV-CDC's role is ComponentTiKVCDC, "tikv-cdc").
SERVER_SECTIONS = {
    "pd_servers": ("pd", "client_port", 2379),
    "tidb_servers": ("tidb", "port", 4000),
    "tikv_servers": ("tikv", "port", 20160),
    "tiflash_servers": ("tiflash", "tcp_port", 9000),
    "tiproxy_servers": ("tiproxy", "port", 6000),
    "cdc_servers": ("cdc", "port", 8300),
    "kvcdc_servers": ("tikv-cdc", "port", 8600),
    "tidb_dashboard_servers": ("tidb-dashboard", "port", 12333),
    "pump_servers": ("pump", "port", 8250),
    "drainer_servers": ("drainer", "port", 8249),
    "monitoring_servers": ("prometheus", "port", 9090),
    "grafana_servers": ("grafana", "port", 3000),
    "alertmanager_servers": ("alertmanager", "web_port", 9093),
    "tso_servers": ("tso", "port", 3379),
    "scheduling_servers": ("scheduling", "port", 3379),
    "resource_manager_servers": ("resource-manager", "port", 3379),
    "router_servers": ("router", "port", 3379),
    "tispark_masters": ("tispark-master", "port", 7077),
    "tispark_workers": ("tispark-worker", "port", 7078),
}
MAP_SECTIONS = ("global", "monitored", "component_versions", "component_sources", "server_configs")
ROLES = sorted(role for role, _port, _default in SERVER_SECTIONS.values())
PATH_KEYS = ("deploy_dir", "data_dir", "log_dir")

VERSION_RE = re.compile(r"^(v\d+\.\d+\.\d+(-[0-9A-Za-z][0-9A-Za-z.-]*)?|nightly)$")
CLUSTER_NAME_RE = re.compile(r"^[a-zA-Z0-9._-]+$")  # tiup's clusterNameRegexp


def validate_version(version):
    if not VERSION_RE.match(version or ""):
        raise TidbOpsError("CLUSTER_VERSION_INVALID",
                           "version %r is not a TiDB release such as v7.5.1 (or nightly)" % (version,))


def validate_name(name):
    if not CLUSTER_NAME_RE.match(name or ""):
        raise TidbOpsError("INVALID_ARGUMENT", "cluster name %r may only contain letters, digits, "
                           "'.', '_' and '-'" % (name,))


def validate_topology(topology):
    """Raise CLUSTER_TOPOLOGY_INVALID unless topology has the shape tiup accepts."""
    def invalid(msg):
        raise TidbOpsError("CLUSTER_TOPOLOGY_INVALID", "topology: " + msg)

    if not isinstance(topology, dict) or not topology:
        invalid("must be a non-empty mapping of sections such as pd_servers, tikv_servers, tidb_servers")
    for key, value in topology.items():
        if key in MAP_SECTIONS:
            if value is not None and not isinstance(value, dict):
                invalid("%s must be a mapping" % key)
        elif key in SERVER_SECTIONS:
            if value is None:
                continue
            if not isinstance(value, list):
                invalid("%s must be a list of instances" % key)
            for index, instance in enumerate(value):
                if not isinstance(instance, dict):
                    invalid("%s[%d] must be a mapping" % (key, index))
                if not instance.get("host") or not isinstance(instance.get("host"), str):
                    invalid("%s[%d] has no host" % (key, index))
                for port_key, port in instance.items():
                    if port_key == "port" or port_key.endswith("_port"):
                        if not isinstance(port, int) or isinstance(port, bool) or not 0 < port < 65536:
                            invalid("%s[%d].%s must be a port number, not %r" % (key, index, port_key, port))
        else:
            invalid("unknown section %r (known: %s)"
                    % (key, ", ".join(sorted(MAP_SECTIONS + tuple(SERVER_SECTIONS)))))
    for required in ("pd_servers", "tikv_servers"):
        if not topology.get(required):
            invalid("%s must list at least one instance" % required)
    seen = {}
    for role, instance_id in topology_instances(topology):
        if instance_id in seen:
            invalid("instance %s is listed twice (%s and %s)" % (instance_id, seen[instance_id], role))
        seen[instance_id] = role


def topology_instances(topology):
    """[(role, "host:port")] for every instance, the ids tiup display uses."""
    found = []
    for section, (role, port_key, default) in SERVER_SECTIONS.items():
        for instance in topology.get(section) or []:
            found.append((role, "%s:%s" % (instance["host"], instance.get(port_key, default))))
    return found


def validate_selection(instances, roles, nodes):
    """instances: [(role, id)]. Raise CLUSTER_NODE_NOT_FOUND for a role or node not among them."""
    known_roles = set(role for role, _id in instances)
    known_ids = set(instance_id for _role, instance_id in instances)
    for role in roles or []:
        if role not in known_roles:
            raise TidbOpsError("CLUSTER_NODE_NOT_FOUND", "the cluster has no %r instances (roles: %s)"
                               % (role, ", ".join(sorted(known_roles))))
    for node in nodes or []:
        if node not in known_ids:
            raise TidbOpsError("CLUSTER_NODE_NOT_FOUND", "the cluster has no node %r (nodes: %s)"
                               % (node, ", ".join(sorted(known_ids))))


def select_instances(instances, roles, nodes):
    """The instances tiup's -R/-N would act on: both filters apply when both are given."""
    return [i for i in instances
            if (not roles or i["role"] in roles) and (not nodes or i["id"] in nodes)]


def _same(desired, deployed, key):
    if key in PATH_KEYS and isinstance(desired, str) and isinstance(deployed, str) \
            and not desired.startswith("/"):
        # tiup makes relative paths absolute under the deploy user's home.
        return deployed == desired or deployed.endswith("/" + desired)
    return desired == deployed


def _subset_drift(desired, deployed, where, differences):
    for key, value in (desired or {}).items():
        current = (deployed or {}).get(key)
        if isinstance(value, dict) and isinstance(current, dict):
            _subset_drift(value, current, "%s.%s" % (where, key), differences)
        elif not _same(value, current, key):
            differences.append("%s.%s: deployed %r, requested %r" % (where, key, current, value))


def topology_drift(desired, deployed):
    """What the requested topology asks for that the deployed one does not have.

    Keys absent from the request are not compared (tiup fills in defaults)."""
    differences = []
    for section in MAP_SECTIONS:
        if desired.get(section):
            _subset_drift(desired[section], deployed.get(section), section, differences)
    for section, (_role, port_key, default) in SERVER_SECTIONS.items():
        by_id = {}
        for instance in deployed.get(section) or []:
            by_id["%s:%s" % (instance.get("host"), instance.get(port_key, default))] = instance
        wanted = set()
        for instance in desired.get(section) or []:
            instance_id = "%s:%s" % (instance["host"], instance.get(port_key, default))
            wanted.add(instance_id)
            if instance_id not in by_id:
                differences.append("%s: %s is requested but not deployed" % (section, instance_id))
            else:
                _subset_drift(instance, by_id[instance_id], "%s[%s]" % (section, instance_id), differences)
        for instance_id in sorted(set(by_id) - wanted):
            differences.append("%s: %s is deployed but not requested" % (section, instance_id))
    return differences


def import_addresses(instances, login_port, pd_addr=None, status_port=None):
    """(pd_addr, status_port) the local backend of Lightning needs, from the instances of
    tiup cluster display (ports "20160/20180": the service port, then the status port): the
    first PD's address, and the status port of the TiDB listening on login_port. Values given
    are kept."""
    for instance in instances:
        ports = str(instance.get("ports", "")).split("/")
        if instance.get("role") == "pd" and not pd_addr:
            pd_addr = "%s:%s" % (instance["host"], ports[0])
        if instance.get("role") == "tidb" and not status_port and ports[0] == str(login_port) and len(ports) > 1:
            status_port = int(ports[1])
    return pd_addr, status_port
