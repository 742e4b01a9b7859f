#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, tidbops.manager contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
---
module: tidb_cluster
short_description: Deploy, start, stop, restart and destroy a TiDB cluster with TiUP
version_added: "0.1.0"
description:
  - Manages the lifecycle of a TiDB cluster through C(tiup cluster) (deploy, start, stop,
    restart, destroy), on the whole cluster or on some instances only (O(roles), O(nodes)).
  - Reads the cluster's state first (C(tiup cluster list), C(display), C(show-config)) and acts
    only on the difference, so a second run with the same arguments reports no change.
  - It does not scale, reconfigure or upgrade a deployed cluster. When the requested topology or
    version differs from the deployed one it fails with C(CLUSTER_TOPOLOGY_DRIFT) or
    C(CLUSTER_VERSION_MISMATCH) and lists the differences, instead of guessing.
options:
  name:
    description:
      - The cluster name, as C(tiup cluster list) shows it.
    type: str
    required: true
    aliases: [cluster_name]
  state:
    description:
      - V(present) deploys the cluster if it does not exist (it is not started).
      - V(started) deploys it if needed and starts every selected instance that is not up.
      - V(stopped) stops every selected instance that is up.
      - V(restarted) restarts the selected instances; it always reports a change.
      - V(absent) destroys the cluster and its data.
    type: str
    choices: [present, started, stopped, restarted, absent]
    default: present
  version:
    description:
      - The TiDB version to deploy, such as V(v7.5.1) or V(nightly). Required to deploy.
      - For an existing cluster it is compared with the deployed version.
    type: str
  topology:
    description:
      - The topology as a mapping, in the format of C(tiup cluster deploy)'s topology file
        (C(global), C(pd_servers), C(tikv_servers), C(tidb_servers), ...).
      - Required to deploy. For an existing cluster it is compared with the deployed one;
        keys left out are not compared.
    type: dict
  topology_file:
    description:
      - A topology YAML file on the managed node, instead of O(topology).
    type: path
  roles:
    description:
      - Act only on instances of these roles (C(tiup cluster -R)), for example V(tikv).
    type: list
    elements: str
    default: []
  nodes:
    description:
      - Act only on these instances (C(tiup cluster -N)), by id V(host:port) as display shows it.
      - With O(roles) too, an instance must match both.
    type: list
    elements: str
    default: []
  wait_timeout:
    description:
      - Seconds tiup waits for an instance to come up or go down (C(--wait-timeout)).
    type: int
    default: 120
  force:
    description:
      - With O(state=absent), destroy even if some hosts cannot be reached (C(destroy --force)).
    type: bool
    default: false
extends_documentation_fragment:
  - tidbops.manager.tiup
  - tidbops.manager.ssh
  - ansible.builtin.action_common_attributes
  - tidbops.manager.attributes
attributes:
  check_mode:
    support: full
    details: Predicts C(changed) from the cluster's current state and runs no changing tiup command.
  diff_mode:
    support: full
    details: Shows the topology before and after a deploy or destroy, and the drift when it fails.
notes:
  - Starting only TiKV, TiDB or other non-PD instances needs a PD that answers; the module checks
    PD's health first and fails with C(PD_UNREACHABLE) before touching anything otherwise.
  - Error codes are listed in the collection's docs/error-codes.md.
seealso:
  - module: tidbops.manager.tidb_cluster_info
  - name: tiup cluster
    description: The TiUP cluster component this module drives.
    link: https://docs.pingcap.com/tidb/stable/tiup-component-cluster
author:
  - tidbops.manager contributors (@tidbops)
'''

EXAMPLES = r'''
- name: Deploy and start a cluster
  tidbops.manager.tidb_cluster:
    name: prod-1
    version: v7.5.1
    state: started
    topology:
      global:
        user: tidb
        deploy_dir: /tidb-deploy
        data_dir: /tidb-data
      pd_servers:
        - host: 10.0.1.1
      tikv_servers:
        - host: 10.0.1.2
        - host: 10.0.1.3
        - host: 10.0.1.4
      tidb_servers:
        - host: 10.0.1.5

- name: Restart one TiKV instance
  tidbops.manager.tidb_cluster:
    name: prod-1
    state: restarted
    nodes: [10.0.1.3:20160]

- name: Stop every TiDB server of the cluster
  tidbops.manager.tidb_cluster:
    name: prod-1
    state: stopped
    roles: [tidb]

- name: Destroy the cluster
  tidbops.manager.tidb_cluster:
    name: prod-1
    state: absent
'''

RETURN = r'''
cluster:
  description:
    - The cluster as C(tiup cluster display --format json) shows it after the task
      (C(cluster_meta) and C(instances)); empty when the cluster does not exist.
  returned: always
  type: dict
  sample:
    cluster_meta:
      cluster_type: tidb
      cluster_name: prod-1
      cluster_version: v7.5.1
      deploy_user: tidb
      ssh_type: builtin
      tls_enabled: false
    instances:
      - id: 10.0.1.3:20160
        role: tikv
        host: 10.0.1.3
        ports: 20160/20180
        status: Up
        data_dir: /tidb-data/tikv-20160
        deploy_dir: /tidb-deploy/tikv-20160
actions:
  description: What the task did (in check mode, would do), in order.
  returned: always
  type: list
  elements: str
  sample: [stop]
  choices: [deploy, start, stop, restart, destroy]
nodes:
  description: The ids of the instances the task started, stopped, restarted or destroyed.
  returned: always
  type: list
  elements: str
  sample: [10.0.1.3:20160]
commands:
  description: The changing tiup commands run (in check mode, none).
  returned: always
  type: list
  elements: str
  sample: ["tiup cluster stop prod-1 --node 10.0.1.3:20160 --format json --yes"]
error_code:
  description: A stable code for the failure (see docs/error-codes.md).
  returned: failure
  type: str
  sample: CLUSTER_NOT_FOUND
differences:
  description: What the requested topology asks for that the deployed one lacks.
  returned: when error_code is CLUSTER_TOPOLOGY_DRIFT
  type: list
  elements: str
'''

import os
import tempfile

from ansible_collections.tidbops.manager.plugins.module_utils.module import TidbOpsModule
from ansible_collections.tidbops.manager.plugins.module_utils.specs import SECONDS

from ansible_collections.tidbops.manager.plugins.module_utils.errors import TidbOpsError
from ansible_collections.tidbops.manager.plugins.module_utils import yamldoc
from ansible_collections.tidbops.manager.plugins.module_utils.tools.http import PdClient
from ansible_collections.tidbops.manager.plugins.module_utils.polling import poll_until
from ansible_collections.tidbops.manager.plugins.module_utils.tools.tiup import Tiup
from ansible_collections.tidbops.manager.plugins.module_utils.cluster import topology as topo


def is_up(status):
    return (status or "").startswith("Up")


def load_topology(module):
    params = module.params
    if params["topology_file"]:
        return yamldoc.load_file(params["topology_file"], "CLUSTER_TOPOLOGY_INVALID", "topology_file")
    return params["topology"]


class ClusterTask(object):
    """One run of the module: read state, decide, act, report."""

    def __init__(self, module):
        self.module = module
        self.params = module.params
        self.tiup = Tiup(module, module.params["tiup_path"], module.params["tiup_home"])
        self.name = module.params["name"]
        self.roles = module.params["roles"]
        self.nodes = module.params["nodes"]
        self.acted_on = []
        self.diff = {"before": "", "after": ""}
        self.display = None

    def run(self):
        params = self.params
        topo.validate_name(self.name)
        if params["version"] is not None:
            topo.validate_version(params["version"])
        desired = load_topology(self.module)
        if desired is not None:
            topo.validate_topology(desired)
        for role in self.roles:
            if role not in topo.ROLES:
                raise TidbOpsError("INVALID_ARGUMENT", "unknown role %r (roles: %s)"
                                   % (role, ", ".join(topo.ROLES)))

        exists = self.tiup.cluster_exists(self.name)
        state = params["state"]
        if state == "absent":
            return self.ensure_absent(exists)
        if not exists:
            if state in ("stopped", "restarted"):
                raise TidbOpsError("CLUSTER_NOT_FOUND", "cluster %s does not exist" % self.name)
            return self.deploy_then(desired, state)
        self.display = self.tiup.display(self.name)
        self.check_matches(desired)
        topo.validate_selection([(i["role"], i["id"]) for i in self.display.get("instances", [])],
                                self.roles, self.nodes)
        if state == "started":
            self.ensure_running(want_up=True)
        elif state == "stopped":
            self.ensure_running(want_up=False)
        elif state == "restarted":
            self.restart()
        return self.finish()

    def check_matches(self, desired):
        """An existing cluster must match the requested version and topology."""
        if self.params["version"] is not None:
            deployed_version = (self.display.get("cluster_meta") or {}).get("cluster_version")
            if deployed_version != self.params["version"]:
                raise TidbOpsError("CLUSTER_VERSION_MISMATCH",
                                   "cluster %s runs %s, not %s; upgrade it with tiup cluster upgrade"
                                   % (self.name, deployed_version, self.params["version"]),
                                   deployed_version=deployed_version)
        if desired is not None:
            differences = topo.topology_drift(desired, self.deployed_topology())
            if differences:
                raise TidbOpsError(
                    "CLUSTER_TOPOLOGY_DRIFT",
                    "the deployed topology of %s differs from the requested one (this module does not "
                    "scale or reconfigure a cluster): %s" % (self.name, "; ".join(differences)),
                    differences=differences)

    def deployed_topology(self):
        """The topology section of meta.yaml, as tiup cluster show-config prints it."""
        try:
            loaded = yamldoc.load(self.tiup.show_config(self.name)) or {}
        except yamldoc.YAMLError:
            raise TidbOpsError("TIUP_OUTPUT_INVALID", "tiup cluster show-config printed no YAML")
        return loaded.get("topology", loaded) if isinstance(loaded, dict) else {}

    def deploy_then(self, desired, state):
        if desired is None or self.params["version"] is None:
            raise TidbOpsError("INVALID_ARGUMENT", "cluster %s does not exist; topology (or "
                               "topology_file) and version are needed to deploy it" % self.name)
        instances = topo.topology_instances(desired)
        topo.validate_selection(instances, self.roles, self.nodes)
        deploy = self.module.act("deploy")
        self.diff["after"] = yamldoc.dump(desired)
        if state == "started":
            self.module.act("start")
            self.acted_on = [i for r, i in instances
                             if (not self.roles or r in self.roles) and (not self.nodes or i in self.nodes)]
        if not deploy:
            return self.finish()
        fd, path = tempfile.mkstemp(prefix="tidbops-topology-", suffix=".yaml")
        try:
            with os.fdopen(fd, "w") as handle:
                handle.write(yamldoc.dump(desired))
            self.tiup.deploy(self.name, self.params["version"], path,
                             self.params["ssh_user"], self.params["ssh_identity_file"])
        finally:
            os.unlink(path)
        if state == "started":
            self.tiup.start(self.name, self.roles, self.nodes, self.params["wait_timeout"])
            self.verify(want_up=True)
        return self.finish()

    def selected(self):
        return topo.select_instances(self.display.get("instances", []), self.roles, self.nodes)

    def ensure_running(self, want_up):
        pending = [i for i in self.selected() if is_up(i.get("status")) != want_up]
        if not pending:
            return
        self.acted_on = [i["id"] for i in pending]
        if not self.module.act("start" if want_up else "stop"):
            return
        if want_up:
            self.require_pd_if_not_starting_it()
            self.tiup.start(self.name, self.roles, self.nodes, self.params["wait_timeout"])
        else:
            self.tiup.stop(self.name, self.roles, self.nodes, self.params["wait_timeout"])
        self.verify(want_up)

    def restart(self):
        self.acted_on = [i["id"] for i in self.selected()]
        if not self.module.act("restart"):
            return
        self.require_pd_if_not_starting_it()
        self.tiup.restart(self.name, self.roles, self.nodes, self.params["wait_timeout"])
        self.verify(want_up=True)

    def require_pd_if_not_starting_it(self):
        """TiKV and TiDB cannot start without PD: check it answers before changing anything."""
        instances = self.display.get("instances", [])
        if any(i["role"] == "pd" for i in self.selected()):
            return
        endpoints = [i["id"] for i in instances if i["role"] == "pd"]
        if endpoints:
            PdClient(endpoints, timeout=3).health()

    def verify(self, want_up):
        """Wait until display shows the selection up (or down): PD learns a TiKV's state from
        its heartbeats, so display may lag behind tiup's own return."""
        def still_wrong():
            self.display = self.tiup.display(self.name)
            return [i["id"] for i in self.selected() if is_up(i.get("status")) != want_up]

        done, _wrong = poll_until(lambda: not still_wrong(), self.params["wait_timeout"])
        if not done:
            raise TidbOpsError("CLUSTER_START_FAILED" if want_up else "CLUSTER_STOP_FAILED",
                               "after tiup returned, these instances are still %s: %s"
                               % ("down" if want_up else "up", ", ".join(still_wrong())),
                               cluster=self.display)

    def ensure_absent(self, exists):
        if not exists:
            return self.finish()
        self.display = self.tiup.display(self.name)
        self.diff["before"] = yamldoc.dump(self.deployed_topology())
        self.acted_on = [i["id"] for i in self.display.get("instances", [])]
        if self.module.act("destroy"):
            self.tiup.destroy(self.name, self.params["force"])
            self.display = {}
        return self.finish()

    def finish(self):
        if self.display is None and self.tiup.cluster_exists(self.name):
            self.display = self.tiup.display(self.name)
        result = self.module.result(cluster=self.display or {}, nodes=self.acted_on,
                                    commands=[c for c in self.tiup.executed_commands
                                              if " cluster list " not in c and " cluster display " not in c
                                              and " cluster show-config " not in c])
        if self.module._diff:
            result["diff"] = self.diff
        return result


def main():
    module = TidbOpsModule(
        dict(
            name=dict(type="str", required=True, aliases=["cluster_name"]),
            state=dict(type="str", default="present",
                       choices=["present", "started", "stopped", "restarted", "absent"]),
            version=dict(type="str"),
            topology=dict(type="dict"),
            topology_file=dict(type="path"),
            roles=dict(type="list", elements="str", default=[]),
            nodes=dict(type="list", elements="str", default=[]),
            wait_timeout=dict(type="int", default=120),
            force=dict(type="bool", default=False),
        ),
        ranges=dict(wait_timeout=SECONDS),
        blocks=("tiup", "ssh"), requires_yaml=True, supports_check_mode=True,
        mutually_exclusive=[["topology", "topology_file"]])
    module.run(lambda: ClusterTask(module).run())


if __name__ == "__main__":
    main()
