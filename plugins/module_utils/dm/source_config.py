# -*- coding: utf-8 -*-
# Copyright: (c) 2026, tidbops.manager contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""DM source configurations: a DM source YAML (dm/config/source_config.go) or the module's
options to the OpenAPI ``Source`` model, and the comparison of a desired Source with one read back.

A Source read back has its password as ``******`` and its TLS contents dropped
(dm/config/source_converter.go); DM also fills in the flavor it detects upstream. So only the
fields the user gave are compared, and the password and TLS contents never are.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import copy

from ansible_collections.tidbops.manager.plugins.module_utils.errors import TidbOpsError

MASK = "******"
YAML_KEYS = ("source-id", "enable", "enable-gtid", "flavor", "enable-relay", "relay-binlog-name",
             "relay-binlog-gtid", "relay-dir", "from", "purge")
YAML_IGNORED = ("auto-fix-gtid", "meta-dir", "charset", "checker", "server-id", "tracer", "case-sensitive")
FLAVORS = ("mysql", "mariadb")


def invalid(msg):
    return TidbOpsError("DM_SOURCE_INVALID", msg)


def source_from_yaml(doc, read_file=None):
    """(OpenAPI Source, warnings) from a DM source YAML (as a dict)."""
    if not isinstance(doc, dict):
        raise invalid("the source YAML must be a mapping")
    warnings = []
    for key in sorted(doc):
        if key == "filters" and doc[key]:
            raise TidbOpsError("DM_SOURCE_INVALID", "the source YAML has binlog event filters (filters), which the "
                               "DM OpenAPI cannot express; put them in the task's filters")
        if key in YAML_IGNORED:
            warnings.append("source YAML: %s is ignored by the DM OpenAPI" % key)
        elif key not in YAML_KEYS and key != "filters":
            raise invalid("the source YAML has an unknown key %s" % key)
    conn = doc.get("from") or {}
    source = dict(source_name=doc.get("source-id"), host=conn.get("host"), port=conn.get("port"),
                  user=conn.get("user"), password=conn.get("password"),
                  enable_gtid=doc.get("enable-gtid"), enable=doc.get("enable"), flavor=doc.get("flavor"))
    if conn.get("security"):
        source["security"] = _security(conn["security"], read_file)
    purge = doc.get("purge") or {}
    if purge:
        source["purge"] = dict((api, purge[yaml]) for yaml, api in
                               (("interval", "interval"), ("expires", "expires"), ("remain-space", "remain_space"))
                               if purge.get(yaml) is not None)
    relay = dict((api, doc[yaml]) for yaml, api in
                 (("enable-relay", "enable_relay"), ("relay-binlog-name", "relay_binlog_name"),
                  ("relay-binlog-gtid", "relay_binlog_gtid"), ("relay-dir", "relay_dir")) if doc.get(yaml) is not None)
    if relay:
        source["relay_config"] = relay
    return source, warnings


def _security(security, read_file):
    read_file = read_file or _read_text
    result = {}
    for yaml_key, api_key in (("ssl-ca", "ssl_ca_content"), ("ssl-cert", "ssl_cert_content"), ("ssl-key", "ssl_key_content")):
        path = security.get(yaml_key)
        try:
            result[api_key] = read_file(path) if path else ""
        except (IOError, OSError) as exc:
            raise invalid("from.security.%s %s cannot be read: %s" % (yaml_key, path, exc))
    if security.get("cert-allowed-cn"):
        result["cert_allowed_cn"] = list(security["cert-allowed-cn"])
    return result


def _read_text(path):
    with open(path) as handle:
        return handle.read()


def merge_options(source, options):
    """The module's options (already in OpenAPI names) override the YAML's; None means unset."""
    merged = copy.deepcopy(source or {})
    for key, value in options.items():
        if value is None:
            continue
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key].update(dict((k, v) for k, v in value.items() if v is not None))
        else:
            merged[key] = value
    return merged


def validate_source(source):
    """Fills the defaults a create needs; DM_SOURCE_INVALID for what DM would refuse."""
    for key in ("source_name", "host", "port", "user"):
        if source.get(key) in (None, ""):
            raise invalid("the source needs %s" % key)
    if source.get("flavor") and source["flavor"] not in FLAVORS:
        raise invalid("flavor must be mysql or mariadb, not %r" % source["flavor"])
    source["port"] = int(source["port"])
    source["enable_gtid"] = bool(source.get("enable_gtid"))
    if source.get("enable") is None:
        source["enable"] = True
    return source


def changed_fields(desired, actual):
    """Dotted names of the fields the user gave that differ from the Source read back.
    Never the password, the enable flag (states enabled/disabled) or relay's on/off (option relay)."""
    fields = []
    for key in ("host", "port", "user", "enable_gtid", "flavor"):
        if desired.get(key) is not None and desired[key] != actual.get(key):
            fields.append(key)
    for section in ("purge", "relay_config"):
        for key, value in (desired.get(section) or {}).items():
            if key == "enable_relay" or value is None:
                continue
            if value != (actual.get(section) or {}).get(key):
                fields.append("%s.%s" % (section, key))
    want_cn = sorted((desired.get("security") or {}).get("cert_allowed_cn") or [])
    have_cn = sorted((actual.get("security") or {}).get("cert_allowed_cn") or [])
    if bool(desired.get("security")) != bool(actual.get("security")) or (desired.get("security") and want_cn != have_cn):
        fields.append("security")
    return fields


def comparable(source):
    """The Source as a diff shows it: no password, no TLS contents, no status."""
    shown = dict((k, v) for k, v in (source or {}).items() if k not in ("password", "status_list", "task_name_list"))
    if shown.get("security"):
        shown["security"] = dict(cert_allowed_cn=sorted(shown["security"].get("cert_allowed_cn") or []))
    return shown


def masked_source(source):
    """A copy safe to return: password masked, TLS key dropped."""
    if not source:
        return source
    source = copy.deepcopy(source)
    if "password" in source:
        source["password"] = MASK
    if source.get("security"):
        source["security"].pop("ssl_key_content", None)
    return source
