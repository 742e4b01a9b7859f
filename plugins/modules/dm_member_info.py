#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, tidbops.manager contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
---
module: dm_member_info
short_description: List a TiDB DM cluster's masters, workers and leader
version_added: "0.2.0"
description:
  - Reads the DM-masters and DM-workers over the DM-master OpenAPI (C(/api/v1/cluster/masters),
    C(/api/v1/cluster/workers)) - the RFC's C(member list).
  - With O(ddl_locks=true) also lists the shard DDL locks, which only C(dmctl) can read
    (C(dmctl shard-ddl-lock)); without C(dmctl) that fails with C(DM_DMCTL_NOT_FOUND).
  - Never changes anything.
options:
  role:
    description:
      - Only this kind of member; V(leader) is the leading master.
    type: str
    choices: [master, worker, leader]
  member_name:
    description:
      - Only the member of this name.
    type: str
  ddl_locks:
    description:
      - Also list the shard DDL locks (through dmctl).
    type: bool
    default: false
  task:
    description:
      - With O(ddl_locks=true), only that task's locks.
    type: str
extends_documentation_fragment:
  - tidbops.manager.dm
  - ansible.builtin.action_common_attributes
  - tidbops.manager.attributes
  - tidbops.manager.attributes.info_module
seealso:
  - module: tidbops.manager.dm_member
author:
  - tidbops.manager contributors (@tidbops)
'''

EXAMPLES = r'''
- name: The DM cluster's members
  tidbops.manager.dm_member_info:
    dm_master_url: http://dm-master-1:8261
  register: members

- name: Free workers
  ansible.builtin.debug:
    msg: "{{ members.workers | selectattr('bound_stage', 'equalto', 'free') | map(attribute='name') }}"
'''

RETURN = r'''
masters:
  description: The masters - C(name), C(alive), C(leader), C(addr).
  returned: always
  type: list
  elements: dict
workers:
  description: The workers - C(name), C(addr), C(bound_stage) (V(free), V(bound), V(offline)), C(bound_source_name).
  returned: always
  type: list
  elements: dict
leader:
  description: The leading master's name (null when none is known).
  returned: always
  type: str
ddl_locks:
  description: With O(ddl_locks=true), the shard DDL locks as dmctl prints them (C(ID), C(task), C(mode), C(owner), C(DDLs), C(synced), C(unsynced)).
  returned: when ddl_locks is true
  type: list
  elements: dict
'''

from ansible_collections.tidbops.manager.plugins.module_utils.module import TidbOpsModule

from ansible_collections.tidbops.manager.plugins.module_utils.dm.api import DmClient
from ansible_collections.tidbops.manager.plugins.module_utils.tools.dmctl import Dmctl, find_dmctl


def members(client, role=None, name=None):
    masters = sorted(client.masters(), key=lambda m: m.get("name") or "")
    workers = sorted(client.workers(), key=lambda w: w.get("name") or "")
    leader = next((m.get("name") for m in masters if m.get("leader")), None)
    if role == "leader":
        masters, workers = [m for m in masters if m.get("leader")], []
    elif role == "master":
        workers = []
    elif role == "worker":
        masters = []
    if name:
        masters = [m for m in masters if m.get("name") == name]
        workers = [w for w in workers if w.get("name") == name]
    return dict(masters=masters, workers=workers, leader=leader)


def report(module):
    params = module.params
    result = members(DmClient.from_params(params), params["role"], params["member_name"])
    if params["ddl_locks"]:
        dmctl = Dmctl(module, find_dmctl(module, params["dmctl_path"], "Listing shard DDL locks"),
                      params["dm_master_url"][0])
        result["ddl_locks"] = dmctl.ddl_locks(params["task"])
    return dict(changed=False, **result)


def main():
    module = TidbOpsModule(
        dict(
            role=dict(type="str", choices=["master", "worker", "leader"]),
            member_name=dict(type="str"),
            ddl_locks=dict(type="bool", default=False),
            task=dict(type="str"),
        ),
        blocks=("dm",), supports_check_mode=True)
    module.run(report, module)


if __name__ == "__main__":
    main()
