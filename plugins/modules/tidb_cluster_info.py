#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, tidbops.manager contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
---
module: tidb_cluster_info
short_description: Read TiDB clusters and the live status of their instances from TiUP
version_added: "0.1.0"
description:
  - Lists the clusters C(tiup cluster list) knows, or one of them, with the live status of each
    instance as C(tiup cluster display --format json) reports it (PD health, TiKV store state
    from PD, TiDB status port).
  - Never changes anything.
options:
  name:
    description:
      - Only this cluster. It must exist (C(CLUSTER_NOT_FOUND) otherwise).
      - Without it, every cluster is returned.
    type: str
    aliases: [cluster_name]
  roles:
    description:
      - Only instances of these roles (C(display -R)).
    type: list
    elements: str
    default: []
  nodes:
    description:
      - Only these instances, by id V(host:port) (C(display -N)); needs O(name), since a node is one cluster's.
    type: list
    elements: str
  status:
    description:
      - Whether to probe the instances (C(display)). V(false) returns only what C(tiup cluster list)
        knows, which is fast for large fleets.
    type: bool
    default: true
extends_documentation_fragment:
  - tidbops.manager.tiup
  - ansible.builtin.action_common_attributes
  - tidbops.manager.attributes
  - tidbops.manager.attributes.info_module

seealso:
  - module: tidbops.manager.tidb_cluster
author:
  - tidbops.manager contributors (@tidbops)
'''

EXAMPLES = r'''
- name: Status of every instance of one cluster
  tidbops.manager.tidb_cluster_info:
    name: prod-1
  register: prod

- name: Fail if a TiKV store is not Up
  ansible.builtin.assert:
    that: prod.clusters[0].instances | selectattr('role', 'eq', 'tikv') | rejectattr('status', 'eq', 'Up') | list | length == 0

- name: Every cluster tiup knows, without probing
  tidbops.manager.tidb_cluster_info:
    status: false
  register: fleet
'''

RETURN = r'''
clusters:
  description: The clusters, sorted by name.
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: The cluster name.
      type: str
      sample: prod-1
    version:
      description: The TiDB version deployed.
      type: str
      sample: v7.5.1
    user:
      description: The deploy user.
      type: str
      sample: tidb
    path:
      description: The cluster's metadata directory on the managed node.
      type: str
    cluster_meta:
      description: C(cluster_meta) of C(tiup cluster display --format json).
      type: dict
      returned: when O(status=true)
    instances:
      description: The instances, each with C(id), C(role), C(host), C(ports), C(status),
        C(data_dir), C(deploy_dir) and the other fields display prints.
      type: list
      elements: dict
      returned: when O(status=true)
    status_counts:
      description: How many of the listed instances have each status.
      type: dict
      returned: when O(status=true)
      sample: {"Up": 4, "Down": 1}
'''

from ansible_collections.tidbops.manager.plugins.module_utils.module import TidbOpsModule

from ansible_collections.tidbops.manager.plugins.module_utils.errors import TidbOpsError
from ansible_collections.tidbops.manager.plugins.module_utils.tools.tiup import Tiup
from ansible_collections.tidbops.manager.plugins.module_utils.cluster import topology as topo


def describe(tiup, listed, params):
    cluster = dict(name=listed.get("name"), version=listed.get("version"),
                   user=listed.get("user"), path=listed.get("path"))
    if params["status"]:
        display = tiup.display(cluster["name"])
        all_instances = display.get("instances") or []
        topo.validate_selection([(i["role"], i["id"]) for i in all_instances],
                                params["roles"], params["nodes"])
        instances = topo.select_instances(all_instances, params["roles"], params["nodes"])
        counts = {}
        for instance in instances:
            counts[instance.get("status")] = counts.get(instance.get("status"), 0) + 1
        cluster.update(cluster_meta=display.get("cluster_meta") or {}, instances=instances,
                       status_counts=counts)
    return cluster


def report(module):
    params = module.params
    if params["name"] is not None:
        topo.validate_name(params["name"])
    tiup = Tiup(module, params["tiup_path"], params["tiup_home"])
    listed = sorted(tiup.list_clusters(), key=lambda c: c.get("name") or "")
    if params["name"] is not None:
        listed = [c for c in listed if c.get("name") == params["name"]]
        if not listed:
            raise TidbOpsError("CLUSTER_NOT_FOUND", "cluster %s does not exist" % params["name"])
    return dict(changed=False, clusters=[describe(tiup, c, params) for c in listed])


def main():
    module = TidbOpsModule(
        dict(
            name=dict(type="str", aliases=["cluster_name"]),
            roles=dict(type="list", elements="str", default=[]),
            nodes=dict(type="list", elements="str"),
            status=dict(type="bool", default=True),
        ),
        blocks=("tiup",), supports_check_mode=True,
        required_by=dict(nodes="name"))  # a node (host:port) is one cluster's
    module.run(report, module)


if __name__ == "__main__":
    main()
