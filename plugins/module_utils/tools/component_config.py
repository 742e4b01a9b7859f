# -*- coding: utf-8 -*-
# Copyright: (c) 2026, tidbops.manager contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""TiKV's and PD's configuration through TiDB: SHOW CONFIG to read it, SET CONFIG to change
the items that change online, and the values compared as the servers read them.

- ``SHOW CONFIG WHERE type = '<component>'`` lists every instance's items by dotted name; an
  item the component does not have is in no row.
- ``SET CONFIG <component> `<name>` = <value>`` posts the change to every instance; an
  instance that refuses it gives a warning (1105 "bad request to ..."), not an error, so the
  warnings are read after each statement.
- Which items change online is TiDB's documented list (docs dynamic-config.md): the other
  items need the config file and a restart. PD's schedule/replication/pd-server items live
  in etcd once the cluster is bootstrapped: SET CONFIG is the only way to change them, the
  file no longer counts.
- Values compare as the servers read them: V(true)/V(True), V(96MB)/V(96MiB) (TiKV sizes are
  binary), V(30m)/V(30m0s)/V(1800s), V(["host"])/V(host) (PD shows lists joined by commas).
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import re

from ansible_collections.tidbops.manager.plugins.module_utils.errors import TidbOpsError
from ansible_collections.tidbops.manager.plugins.module_utils.tools.sql import run_sql

COMPONENTS = ("tikv", "pd")
NAME_PATTERN = re.compile(r"[a-z0-9][a-z0-9_-]*(?:\.[a-z0-9][a-z0-9_-]*)*\Z")

# docs dynamic-config.md, "Modify TiKV configuration dynamically".
TIKV_ONLINE_SECTIONS = ("raftstore.", "readpool.unified.", "readpool.storage.", "readpool.coprocessor.",
                        "coprocessor.", "pessimistic-txn.", "gc.", "split.", "cdc.", "quota.", "backup.",
                        "rocksdb.", "raftdb.", "resolved-ts.", "log-backup.", "memory.", "in-memory-engine.")
TIKV_ONLINE_ITEMS = ("server.grpc-memory-pool-quota", "server.max-grpc-send-msg-len",
                     "server.raft-msg-max-batch-size", "server.snap-io-max-bytes-per-sec",
                     "storage.block-cache.capacity", "storage.scheduler-worker-pool-size",
                     "storage.flow-control.enable", "import.num-threads", "memory-usage-limit")
# PD's API takes these sections (server/api/config.go updateConfig).
PD_ONLINE_SECTIONS = ("schedule.", "replication.", "replication-mode.", "pd-server.", "log.")
PD_ONLINE_ITEMS = ("cluster-version",)

_SIZE = re.compile(r"(\d+(?:\.\d+)?)\s*([KMGTP]?)(I?B?)\Z", re.I)
_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)(h|ms|us|µs|ns|m|s)")
_SECONDS = {"h": 3600.0, "m": 60.0, "s": 1.0, "ms": 1e-3, "us": 1e-6, "µs": 1e-6, "ns": 1e-9}
_POWERS = {"": 0, "K": 1, "M": 2, "G": 3, "T": 4, "P": 5}


def online(component, name):
    """Whether the item changes online (SET CONFIG) rather than with the file and a restart."""
    if component == "pd":
        return name.startswith(PD_ONLINE_SECTIONS) or name in PD_ONLINE_ITEMS
    return name.startswith(TIKV_ONLINE_SECTIONS) or name in TIKV_ONLINE_ITEMS


def check_settings(settings):
    """{lower-case dotted name: value}; INVALID_ARGUMENT for a malformed name or a value that
    is not a scalar (or a list of scalars, for PD's label lists)."""
    out = {}
    for raw, value in (settings or {}).items():
        name = str(raw).strip().lower()
        if not NAME_PATTERN.match(name):
            raise TidbOpsError("INVALID_ARGUMENT", "%r is not a configuration item name (dotted words, "
                               "for example raftstore.apply-pool-size)" % str(raw))
        scalars = value if isinstance(value, list) else [value]
        if value is None or not all(isinstance(v, (str, int, float, bool)) for v in scalars):
            raise TidbOpsError("INVALID_ARGUMENT", "the value of %s must be a string, a number or a boolean"
                               % name)
        out[name] = value
    if not out:
        raise TidbOpsError("INVALID_ARGUMENT", "settings names no configuration item")
    return out


def canonical(value):
    """A form in which two spellings of one value are equal."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, list):
        return ",".join(str(canonical(v)) if not isinstance(v, str) else v for v in value)
    text = str(value).strip()
    if text.lower() in ("true", "false"):
        return text.lower()
    try:
        return float(text)
    except ValueError:
        pass
    size = _SIZE.match(text)
    if size and (size.group(2) or size.group(3)):
        return float(size.group(1)) * (1024 ** _POWERS[size.group(2).upper()])
    parts = _DURATION_PART.findall(text)
    if parts and "".join(n + u for n, u in parts) == text:
        return ("duration", sum(float(n) * _SECONDS[u] for n, u in parts))
    return text


def same(a, b):
    return canonical(a) == canonical(b)


def read(connection, component):
    """{instance: {name: value}} of every instance of the component."""
    rows, _count, _warnings = run_sql(connection, "SHOW CONFIG WHERE type = %s", [component])
    found = {}
    for row in rows or []:
        found.setdefault(row["Instance"], {})[row["Name"]] = row["Value"]
    if not found:
        raise TidbOpsError("CONFIG_NO_INSTANCE", "the cluster has no %s instance that answers SHOW CONFIG"
                           % component)
    return found


def sql_value(value):
    """The value as SET CONFIG's right-hand side: a number bare, a boolean TRUE/FALSE, the rest quoted."""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, list):
        value = ",".join(str(v) for v in value)
    return "'%s'" % str(value).replace("\\", "\\\\").replace("'", "''")


def set_online(connection, component, name, value):
    """SET CONFIG for every instance; CONFIG_SET_FAILED with the instances' refusals."""
    statement = "SET CONFIG %s `%s` = %s" % (component, name.replace("`", ""), sql_value(value))
    try:
        dummy, _count, warnings = run_sql(connection, statement)
    except TidbOpsError as error:
        raise TidbOpsError("CONFIG_SET_FAILED", "SET CONFIG %s %s failed: %s" % (component, name, error.msg))
    refusals = [w.get("Message", "") for w in warnings or []]
    if refusals:
        raise TidbOpsError("CONFIG_SET_FAILED", "%s refused %s = %r (an instance that took it keeps it): %s"
                           % (component, name, value, "; ".join(refusals)), refusals=refusals)
