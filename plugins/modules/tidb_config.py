#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, tidbops.manager contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
---
module: tidb_config
short_description: Keep TiKV's or PD's configuration as declared, online and in the topology
version_added: "0.2.0"
description:
  - Compares the items of O(settings) with what every instance of O(component) shows (C(SHOW CONFIG)) and
    changes only those that differ, so a second run changes nothing.
  - An item that changes online (TiDB's documented list, for example C(raftstore.*), C(split.*), C(gc.*) of
    TiKV and C(schedule.*), C(replication.*) of PD) is set with C(SET CONFIG); a refusal of any instance
    (which TiDB reports as a warning only) fails the task.
  - With O(persist), the same values are written to the cluster's topology (C(server_configs) of the
    component, C(tiup cluster edit-config --topology-file)), so that a later C(tiup cluster reload) or
    C(upgrade) does not put the old values back. The topology is read back afterwards, because tiup saves
    nothing, with exit code 0, when it refuses a file.
  - An item that does not change online needs the file and a restart of the component
    (C(tiup cluster reload -R <component>)); that is done only with O(allow_restart), otherwise the task
    fails with C(CONFIG_NEEDS_RESTART) before anything is changed.
  - Every value is checked against the instances afterwards; values compare as the servers read them
    (V(96MB) is V(96MiB), V(30m) is V(30m0s), V(true) is V(True)).
options:
  cluster:
    description:
      - The cluster's name in tiup. Without a login, tiup's first TiDB server of it is used.
      - With O(persist=false) and a login, any cluster TiDB reaches will do.
    type: str
    required: true
  component:
    description:
      - Whose configuration. TiDB's own is kept with M(tidbops.manager.tidb_variables) (TiDB has no
        C(SET CONFIG)) and with the topology (M(tidbops.manager.tidb_cluster)).
    type: str
    required: true
    choices: [tikv, pd]
  settings:
    description:
      - The items and their values, by dotted name (C(raftstore.apply-pool-size), C(replication.max-replicas)).
      - A value is a string, a number or a boolean; a list (PD's C(replication.location-labels)) is also taken.
    type: dict
    required: true
  persist:
    description:
      - Also write the values to the topology's C(server_configs), so that they survive C(tiup cluster reload).
      - Needs a cluster tiup manages.
    type: bool
    default: true
  allow_restart:
    description:
      - Apply items that do not change online too. They are written to the topology and the component is
        restarted with C(tiup cluster reload -R <component>), one instance after the other as tiup does.
    type: bool
    default: false
  wait_timeout:
    description: Seconds tiup waits for each restarted instance to come up.
    type: int
    default: 120
extends_documentation_fragment:
  - tidbops.manager.login
  - tidbops.manager.tiup
  - ansible.builtin.action_common_attributes
  - tidbops.manager.attributes
attributes:
  check_mode:
    support: full
    details: Reads the configuration and the topology and reports what would be set, saved and restarted.
  diff_mode:
    support: full
    details: Shows the items that change, with each instance's value before.
notes:
  - Needs the C(CONFIG) privilege for C(SHOW CONFIG) and C(SET CONFIG), and tiup for O(persist) and O(allow_restart).
  - PD keeps its C(schedule), C(replication) and C(pd-server) items in etcd once the cluster is bootstrapped,
    so its config file no longer counts for them; C(SET CONFIG) is what changes them, the topology is kept in step
    only for a cluster deployed again from it.
  - A change is not atomic across instances; a refused change may have been taken by some instances
    (the message says which refused). Run the task again once the cause is fixed.
seealso:
  - module: tidbops.manager.tidb_variables
  - module: tidbops.manager.tidb_cluster
  - name: Modify configuration dynamically
    description: The items TiKV and PD change online.
    link: https://docs.pingcap.com/tidb/stable/dynamic-config
author:
  - tidbops.manager contributors (@tidbops)
'''

EXAMPLES = r'''
- name: Three replicas of every region again on a cluster that was built with one
  tidbops.manager.tidb_config:
    cluster: prod
    component: pd
    settings:
      replication.max-replicas: 3

- name: Split hot regions sooner, and keep it after a reload
  tidbops.manager.tidb_config:
    cluster: prod
    component: tikv
    settings:
      split.qps-threshold: 1000
      raftstore.apply-pool-size: 4

- name: An item TiKV reads only at start, with a rolling restart of TiKV
  tidbops.manager.tidb_config:
    cluster: prod
    component: tikv
    settings:
      storage.scheduler-concurrency: 1048576
    allow_restart: true
'''

RETURN = r'''
config:
  description: The value of each item given, after the task (in check mode, what it would be), as the instances show it.
  returned: success
  type: dict
  sample: {"split.qps-threshold": "1000"}
changed_settings:
  description: The items that were (in check mode, would be) changed, each with every instance's value before, and after.
  returned: success
  type: dict
  sample: {"split.qps-threshold": {"before": {"10.0.1.7:20160": "3000"}, "after": 1000}}
persisted:
  description: The items written to the topology (empty without O(persist) or when it already had them).
  returned: success
  type: list
  elements: str
  sample: ["split.qps-threshold"]
restarted:
  description: The items applied with a restart of the component (O(allow_restart)).
  returned: success
  type: list
  elements: str
  sample: ["storage.scheduler-concurrency"]
actions:
  description: What the task did (or would do in check mode) - C(set <item>), C(edit-config), C(reload <component>).
  returned: success
  type: list
  elements: str
  sample: ["set split.qps-threshold", "edit-config"]
error_code:
  description: A stable code for the failure (see docs/error-codes.md).
  returned: failure
  type: str
  sample: CONFIG_NEEDS_RESTART
'''

import os
import tempfile

from ansible_collections.tidbops.manager.plugins.module_utils.module import TidbOpsModule
from ansible_collections.tidbops.manager.plugins.module_utils.specs import SECONDS
from ansible_collections.tidbops.manager.plugins.module_utils.errors import TidbOpsError
from ansible_collections.tidbops.manager.plugins.module_utils.cluster.identity import Cluster
from ansible_collections.tidbops.manager.plugins.module_utils.tools import component_config as config
from ansible_collections.tidbops.manager.plugins.module_utils.tools.tiup import Tiup


def flat(section, prefix=""):
    """{dotted name: value} of a server_configs section, whose keys may be dotted or nested."""
    out = {}
    for key, value in (section or {}).items():
        name = prefix + str(key).lower()
        if isinstance(value, dict):
            out.update(flat(value, name + "."))
        else:
            out[name] = value
    return out


def put(section, name, value):
    """Set a dotted item in a server_configs section where it already is (dotted key or
    nested maps), or as a dotted key."""
    parts = name.split(".")
    for split in range(len(parts) - 1, 0, -1):
        head, tail = ".".join(parts[:split]), ".".join(parts[split:])
        if isinstance(section.get(head), dict):
            return put(section[head], tail, value)
    section[name] = value


class ConfigTask(object):
    def __init__(self, module):
        self.module = module
        self.params = module.params
        self.component = self.params["component"]
        self.wanted = config.check_settings(self.params["settings"])
        self.cluster = Cluster(self.params)
        self._tiup = None

    @property
    def tiup(self):
        if self._tiup is None:
            self._tiup = Tiup(self.module, self.params["tiup_path"], self.params["tiup_home"])
        return self._tiup

    def topology(self):
        topology = self.cluster.topology()
        if topology is None:
            raise TidbOpsError("CLUSTER_NOT_FOUND", "tiup knows no cluster %s, so its topology cannot hold the "
                               "values; give persist: false to change them online only" % self.params["cluster"],
                               cluster=self.params["cluster"])
        return topology

    def read(self):
        connection = self.cluster.connect()
        try:
            return config.read(connection, self.component)
        finally:
            connection.close()

    def run(self):
        shown = self.read()
        unknown = sorted(n for n in self.wanted if not any(n in items for items in shown.values()))
        if unknown:
            raise TidbOpsError("CONFIG_KEY_UNKNOWN", "%s has no configuration item %s" % (
                self.component, ", ".join(unknown)), unknown=unknown)
        drift = dict((name, dict((inst, items.get(name)) for inst, items in sorted(shown.items())))
                     for name, value in self.wanted.items()
                     if any(not config.same(items.get(name), value) for items in shown.values()))
        restart = sorted(n for n in drift if not config.online(self.component, n))
        stored = {}
        if self.params["persist"] or restart:
            stored = flat(((self.topology().get("server_configs") or {}).get(self.component)))
        unsaved = sorted(n for n, value in self.wanted.items()
                         if (self.params["persist"] or n in restart)
                         and (n not in stored or not config.same(stored[n], value)))
        if restart and not self.params["allow_restart"]:
            raise TidbOpsError("CONFIG_NEEDS_RESTART", "%s reads %s only at start: give allow_restart: true to "
                               "write them to the topology and restart %s" % (
                                   self.component, ", ".join(restart), self.component), items=restart)
        connection = None
        try:
            for name in sorted(n for n in drift if n not in restart):
                if self.module.act("set " + name):
                    connection = connection or self.cluster.connect()
                    config.set_online(connection, self.component, name, self.wanted[name])
        finally:
            if connection is not None:
                connection.close()
        if unsaved and self.module.act("edit-config"):
            self.save(unsaved)
        if restart and self.module.act("reload " + self.component):
            self.tiup.reload(self.params["cluster"], [self.component], self.params["wait_timeout"])
        after = self.verify(shown, drift)
        result = self.module.result(
            config=after, persisted=unsaved, restarted=restart,
            changed_settings=dict((n, dict(before=b, after=self.wanted[n])) for n, b in drift.items()))
        if self.module._diff:
            result["diff"] = dict(
                before="".join("%s: %s\n" % (n, drift[n]) for n in sorted(drift)),
                after="".join("%s: %s\n" % (n, self.wanted[n]) for n in sorted(drift)))
        return result

    def save(self, names):
        """Write the items into the topology with tiup edit-config, then read it back."""
        from ansible_collections.tidbops.manager.plugins.module_utils import yamldoc
        name = self.params["cluster"]
        topology = yamldoc.load(self.tiup.show_config(name)) or {}
        configs = topology.setdefault("server_configs", {})
        section = configs[self.component] = configs.get(self.component) or {}
        for item in names:
            put(section, item, self.wanted[item])
        fd, path = tempfile.mkstemp(prefix="tidbops-topology-", suffix=".yaml")
        try:
            with os.fdopen(fd, "w") as handle:
                handle.write(yamldoc.dump(topology))
            result = self.tiup.edit_config(name, path)
        finally:
            os.unlink(path)
        saved = flat(((yamldoc.load(self.tiup.show_config(name)) or {}).get("server_configs") or {})
                     .get(self.component))
        missing = [item for item in names if item not in saved or not config.same(saved[item], self.wanted[item])]
        if missing:
            raise TidbOpsError("CONFIG_PERSIST_FAILED", "tiup cluster edit-config did not save %s: %s" % (
                ", ".join(missing), (result.stdout + result.stderr).strip()[-1000:]), items=missing)

    def verify(self, shown, drift):
        """The values after the task; CONFIG_NOT_APPLIED where an instance shows another."""
        if not self.module.changed or self.module.check_mode or not drift:
            first = sorted(shown)[0]
            return dict((n, self.wanted[n] if n in drift else shown[first].get(n)) for n in self.wanted)
        now = self.read()
        wrong = ["%s on %s shows %s" % (n, inst, items.get(n)) for n in sorted(self.wanted)
                 for inst, items in sorted(now.items()) if not config.same(items.get(n), self.wanted[n])]
        if wrong:
            raise TidbOpsError("CONFIG_NOT_APPLIED", "after the change, %s" % "; ".join(wrong))
        first = sorted(now)[0]
        return dict((n, now[first].get(n)) for n in self.wanted)


def main():
    module = TidbOpsModule(
        dict(
            cluster=dict(type="str", required=True),
            component=dict(type="str", required=True, choices=list(config.COMPONENTS)),
            settings=dict(type="dict", required=True),
            persist=dict(type="bool", default=True),
            allow_restart=dict(type="bool", default=False),
            wait_timeout=dict(type="int", default=120),
        ),
        ranges=dict(wait_timeout=SECONDS),
        blocks=("login", "tiup"), supports_check_mode=True)
    module.run(lambda: ConfigTask(module).run())


if __name__ == "__main__":
    main()
