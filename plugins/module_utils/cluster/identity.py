# -*- coding: utf-8 -*-
# Copyright: (c) 2026, tidbops.manager contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Which physical cluster a job works on.

A job names its cluster (the option ``cluster``): the name users see and the key of its
records. The cluster itself is identified by PD's cluster id (``GET /pd/api/v1/cluster``),
which TiDB, TiKV and BR all check: the lock belongs to the id, so two names for one cluster
share one lock, and a record of a destroyed cluster whose name was given to a new one is not
taken for the new one's.

Where the cluster is:

- a login given (``login_host`` or ``login_port``, in the task or in module_defaults) says it;
  PD's endpoints are the ones that TiDB server uses (INFORMATION_SCHEMA.CLUSTER_INFO);
- otherwise tiup must know the name (its ``meta.yaml`` under ``<tiup home>/storage/cluster/
  clusters/<name>/``, read as a file: no tiup run): the login is its first TiDB server, PD its
  PD servers. A name neither knows is CLUSTER_NOT_FOUND, before anything is written.

Nothing is resolved until a job needs the cluster: deleting the record of a backup of a
cluster that is gone needs neither tiup nor the cluster.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os

from ansible_collections.tidbops.manager.plugins.module_utils.errors import TidbOpsError
from ansible_collections.tidbops.manager.plugins.module_utils.tools.http import PdClient
from ansible_collections.tidbops.manager.plugins.module_utils.tools.sql import (
    DEFAULT_HOST, DEFAULT_PORT, run_sql, tidb_connect)

CLUSTER_INFO_PD = "SELECT INSTANCE FROM INFORMATION_SCHEMA.CLUSTER_INFO WHERE TYPE = 'pd'"
_UNREAD = object()


def tiup_home(params):
    """tiup's profile directory: tiup_home, else $TIUP_HOME, else ~/.tiup (as tiup finds it)."""
    return params.get("tiup_home") or os.environ.get("TIUP_HOME") or os.path.expanduser("~/.tiup")


def meta_path(home, name):
    return os.path.join(home, "storage", "cluster", "clusters", name, "meta.yaml")


def servers(topology, section, port_key, default_port):
    """["host:port"] of a topology section (pd_servers, tidb_servers)."""
    return ["%s:%s" % (server["host"], server.get(port_key, default_port))
            for server in (topology or {}).get(section) or []]


class Cluster(object):
    """The cluster a job names; see the module docstring."""

    def __init__(self, params):
        self.name = params["cluster"]
        self.params = params
        self.login_given = params.get("login_host") is not None or params.get("login_port") is not None
        self._topology = _UNREAD
        self._id = None

    def topology(self):
        """tiup's topology of the cluster, or None when tiup does not know the name."""
        if self._topology is _UNREAD:
            path = meta_path(tiup_home(self.params), self.name)
            self._topology = None
            if not os.path.isfile(path):
                return None
            # PyYAML costs its import only to the jobs that read tiup's metadata.
            from ansible_collections.tidbops.manager.plugins.module_utils import yamldoc
            if not yamldoc.HAS_YAML:
                raise TidbOpsError("MISSING_LIBRARY", "the PyYAML library is needed to read tiup's %s" % path)
            meta = yamldoc.load_file(path, "CLUSTER_TOPOLOGY_INVALID", "tiup metadata") or {}
            self._topology = meta.get("topology") or {}
        return self._topology

    def login(self):
        """The module's params with the login filled in: given, or tiup's first TiDB server."""
        params = self.params
        if not self.login_given:
            if self.topology() is None:
                raise TidbOpsError("CLUSTER_NOT_FOUND", "tiup knows no cluster %s (there is no %s) and no login_host "
                                   "or login_port says where it is" % (self.name, meta_path(tiup_home(params), self.name)),
                                   cluster=self.name)
            tidb = servers(self.topology(), "tidb_servers", "port", DEFAULT_PORT)
            if not tidb:
                raise TidbOpsError("CLUSTER_TOPOLOGY_INVALID", "tiup's cluster %s has no TiDB server to log in to; "
                                   "give login_host and login_port" % self.name, cluster=self.name)
            host, port = tidb[0].rsplit(":", 1)
            params["login_host"], params["login_port"] = host, int(port)
        if params.get("login_host") is None:
            params["login_host"] = DEFAULT_HOST
        if params.get("login_port") is None:
            params["login_port"] = DEFAULT_PORT
        return params

    def connect(self):
        return tidb_connect(self.login())

    def pd_of_tidb(self):
        """The PD endpoints of the TiDB server the login reaches."""
        connection = self.connect()
        try:
            rows, _count, _warnings = run_sql(connection, CLUSTER_INFO_PD)
        finally:
            connection.close()
        return [row["INSTANCE"] for row in rows or []]

    def identify(self):
        """PD's cluster id (an integer), asked once: CLUSTER_NOT_FOUND, PD_UNREACHABLE or
        CLUSTER_MISMATCH when the cluster cannot be told."""
        if self._id is None:
            tiup_pd = servers(self.topology(), "pd_servers", "client_port", 2379)
            if not self.login_given:
                self.login()
                self._id = cluster_id(tiup_pd)
                return self._id
            tidb_pd = self.pd_of_tidb()
            self._id = cluster_id(tidb_pd)
            if tiup_pd and not set(tiup_pd) & set(tidb_pd) and cluster_id(tiup_pd, required=False) not in (None, self._id):
                raise TidbOpsError(
                    "CLUSTER_MISMATCH", "the login %s:%s reaches a TiDB server of another cluster than tiup's %s (PD %s, "
                    "not %s)" % (self.params["login_host"], self.params["login_port"], self.name, ", ".join(tidb_pd),
                                 ", ".join(tiup_pd)), cluster=self.name)
        return self._id

    @property
    def key(self):
        """The name of the physical cluster in the catalog (its lock, its records' cluster_id)."""
        return str(self.identify())


def same_cluster(record, cluster):
    """Whether a record (of a backup, a restore) is of this physical cluster: by its PD cluster
    id, or by name for a record written before records had one."""
    if record.get("cluster_id") is not None:
        return str(record["cluster_id"]) == cluster.key
    return record.get("cluster") == cluster.name


def cluster_id(endpoints, required=True):
    """PD's cluster id from the first endpoint that answers; None when none does and not required."""
    if not endpoints:
        raise TidbOpsError("PD_UNREACHABLE", "the cluster lists no PD endpoint")
    try:
        return int(PdClient(endpoints).cluster()["id"])
    except TidbOpsError:
        if required:
            raise
        return None
