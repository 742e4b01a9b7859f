#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, tidbops.manager contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
---
module: dm_member
short_description: Offline TiDB DM members, evict the DM leader, unlock shard DDL locks
version_added: "0.2.0"
description:
  - V(absent) takes a DM-master or DM-worker offline over the DM-master OpenAPI
    (C(DELETE /api/v1/cluster/masters/{name}) or C(.../workers/{name})) - the RFC's C(member offline).
    A member that is not listed is already absent.
  - V(leader_evicted) and V(leader_restored) stop a master from being (or let it be again) the
    leader (C(dmctl operate-leader evict|cancel-evict), sent to that master); V(ddl_lock_unlocked)
    unlocks a shard DDL lock (C(dmctl shard-ddl-lock unlock)). These exist only in C(dmctl), not in
    the OpenAPI - without a C(dmctl) binary they fail with C(DM_DMCTL_NOT_FOUND).
  - dmctl exits 0 even when it failed; the module reads the C(result) of its JSON instead.
options:
  member_name:
    description:
      - The master or worker (for V(absent), V(leader_evicted), V(leader_restored)).
    type: str
  role:
    description:
      - Whether O(member_name) is a V(master) or a V(worker). By default the module looks it up.
    type: str
    choices: [master, worker]
  state:
    description:
      - V(absent), V(leader_evicted), V(leader_restored) or V(ddl_lock_unlocked) (see above).
      - Leader eviction cannot be read back, so V(leader_evicted) and V(leader_restored) always report a change.
    type: str
    choices: [absent, leader_evicted, leader_restored, ddl_lock_unlocked]
    default: absent
  lock_id:
    description:
      - The shard DDL lock to unlock (its C(ID) in M(tidbops.manager.dm_member_info) C(ddl_locks)).
      - A lock that is not listed any more is already unlocked.
    type: str
  lock_owner:
    description:
      - The source to replace the lock's owner (dmctl C(--owner)).
    type: str
  force_remove:
    description:
      - Remove the lock even when the DDL fails (dmctl C(--force-remove)).
    type: bool
    default: false
extends_documentation_fragment:
  - tidbops.manager.dm
  - ansible.builtin.action_common_attributes
  - tidbops.manager.attributes
attributes:
  check_mode:
    support: full
  diff_mode:
    support: none
seealso:
  - module: tidbops.manager.dm_member_info
author:
  - tidbops.manager contributors (@tidbops)
'''

EXAMPLES = r'''
- name: Take a scaled-in worker offline
  tidbops.manager.dm_member:
    member_name: dm-worker-3
    role: worker
    state: absent

- name: Move leadership away from a master before its maintenance (needs dmctl)
  tidbops.manager.dm_member:
    member_name: dm-master-1
    state: leader_evicted

- name: Unlock a stuck shard DDL lock (needs dmctl)
  tidbops.manager.dm_member:
    state: ddl_lock_unlocked
    lock_id: orders-`shard_db`.`shard_table`
'''

RETURN = r'''
member:
  description: The member as listed before the task (C(name), C(addr), and C(leader) or C(bound_stage)).
  returned: when the member exists
  type: dict
actions:
  description: What the module did (or would do).
  returned: always
  type: list
  elements: str
commands:
  description: The dmctl command lines run.
  returned: always
  type: list
  elements: str
error_code:
  description: A stable code for the failure (see docs/error-codes.md).
  returned: failure
  type: str
  sample: DM_DMCTL_NOT_FOUND
'''

from ansible_collections.tidbops.manager.plugins.module_utils.module import TidbOpsModule
from ansible_collections.tidbops.manager.plugins.module_utils.dm.api import DmClient
from ansible_collections.tidbops.manager.plugins.module_utils.tools.dmctl import Dmctl, find_dmctl
from ansible_collections.tidbops.manager.plugins.module_utils.errors import TidbOpsError


def find_member(client, name, role=None):
    """(role, member) of the named master or worker, or (role, None)."""
    for kind, listing in (("master", client.masters), ("worker", client.workers)):
        if role in (None, kind):
            member = next((m for m in listing() if m.get("name") == name), None)
            if member is not None:
                return kind, member
    return role, None


class MemberRun(object):
    def __init__(self, module, client):
        self.module = module
        self.params = module.params
        self.client = client
        self.act = module.act
        self.result = dict(commands=[])

    def dmctl(self, purpose, url):
        return Dmctl(self.module, find_dmctl(self.module, self.params["dmctl_path"], purpose), url)

    def run(self):
        state = self.params["state"]
        if state == "ddl_lock_unlocked":
            return self.unlock()
        name = self.params["member_name"]
        role, member = find_member(self.client, name, None if state != "absent" else self.params["role"])
        if member is not None:
            self.result["member"] = member
        if state == "absent":
            if member is not None and self.act("offline"):
                self.client.offline_member(role, name)
            return self.module.result(**self.result)
        if member is None or role != "master":
            raise TidbOpsError("DM_MEMBER_NOT_FOUND", "no DM-master named %s" % name)
        # Eviction applies to the master dmctl talks to (OperateLeader is not forwarded).
        dmctl = self.dmctl("Leader eviction", member["addr"])
        op = "evict" if state == "leader_evicted" else "cancel-evict"
        if self.act("leader_" + op):
            self.result["commands"].append(dmctl.operate_leader(op)["cmd"])
        return self.module.result(**self.result)

    def unlock(self):
        lock_id = self.params["lock_id"]
        dmctl = self.dmctl("Unlocking shard DDL locks", self.params["dm_master_url"][0])
        if any(lock.get("ID") == lock_id for lock in dmctl.ddl_locks()) and self.act("ddl_lock_unlock"):
            self.result["commands"].append(
                dmctl.unlock_ddl_lock(lock_id, self.params["lock_owner"], self.params["force_remove"])["cmd"])
        return self.module.result(**self.result)


def main():
    module = TidbOpsModule(
        dict(
            member_name=dict(type="str"),
            role=dict(type="str", choices=["master", "worker"]),
            state=dict(type="str", default="absent",
                       choices=["absent", "leader_evicted", "leader_restored", "ddl_lock_unlocked"]),
            lock_id=dict(type="str"),
            lock_owner=dict(type="str"),
            force_remove=dict(type="bool", default=False),
        ),
        blocks=("dm",), supports_check_mode=True,
        required_if=[("state", "absent", ("member_name",)),
                     ("state", "leader_evicted", ("member_name",)),
                     ("state", "leader_restored", ("member_name",)),
                     ("state", "ddl_lock_unlocked", ("lock_id",))])
    module.run(lambda: MemberRun(module, DmClient.from_params(module.params)).run())


if __name__ == "__main__":
    main()
