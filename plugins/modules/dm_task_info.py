#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, tidbops.manager contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
---
module: dm_task_info
short_description: List TiDB DM tasks, show one task's configuration and status
version_added: "0.2.0"
description:
  - Without O(name), lists the DM tasks (the RFC's C(task list)), filtered by O(stage) and O(sources).
  - With O(name), returns that task's configuration as a dmctl task YAML (C(task get)), optionally
    written to O(dest), and its status per source (C(task status)).
  - Passwords are masked. Never changes anything on the DM cluster.
options:
  name:
    description:
      - One task's name.
    type: str
  stage:
    description:
      - Only tasks in this stage. V(Stopped) also matches subtasks that read Paused (DM reads a
        stopped subtask as Paused); V(Error) matches tasks with a subtask paused with an error.
    type: str
    choices: [Running, Stopped, Paused, Finished, Error]
  sources:
    description:
      - Only tasks that use one of these sources; with O(name), only these sources' status.
    type: list
    elements: str
  dest:
    description:
      - With O(name), also write the task's dmctl YAML (password masked) to this file on the managed node.
    type: path
extends_documentation_fragment:
  - tidbops.manager.dm
  - ansible.builtin.action_common_attributes
  - tidbops.manager.attributes
attributes:
  check_mode:
    support: full
    details: With O(dest), reports whether the file would change and writes nothing.
  diff_mode:
    support: none
seealso:
  - module: tidbops.manager.dm_task
author:
  - tidbops.manager contributors (@tidbops)
'''

EXAMPLES = r'''
- name: Running tasks that read from mysql-01
  tidbops.manager.dm_task_info:
    stage: Running
    sources: [mysql-01]
  register: running

- name: One task's config and status, the config saved as a dmctl task file
  tidbops.manager.dm_task_info:
    name: orders
    dest: /tmp/orders-task.yaml
  register: orders

- name: Wait until the task runs
  tidbops.manager.dm_task_info:
    name: orders
  register: info
  until: info.stage == 'Running'
  retries: 30
  delay: 5
'''

RETURN = r'''
tasks:
  description: Without O(name), the matching tasks - C(name), C(task_mode), C(stage), C(sources) and C(status) per source.
  returned: when name is not given
  type: list
  elements: dict
exists:
  description: With O(name), whether the task exists.
  returned: when name is given
  type: bool
task:
  description: With O(name), the task as DM returns it (OpenAPI model, password masked).
  returned: when name is given and the task exists
  type: dict
task_yaml:
  description: With O(name), the task as a dmctl task YAML (password masked).
  returned: when name is given and the task exists
  type: str
stage:
  description: With O(name), the task's stage (V(Running), V(Finished), V(Error) or V(Stopped)).
  returned: when name is given and the task exists
  type: str
status:
  description: With O(name), the status per source.
  returned: when name is given and the task exists
  type: list
  elements: dict
changed:
  description: True only when O(dest) was written with new content.
  returned: always
  type: bool
'''

import os

from ansible_collections.tidbops.manager.plugins.module_utils.module import TidbOpsModule

from ansible_collections.tidbops.manager.plugins.module_utils.dm import api as dm_api
from ansible_collections.tidbops.manager.plugins.module_utils.dm import task_config as cfg
from ansible_collections.tidbops.manager.plugins.module_utils.errors import TidbOpsError
from ansible_collections.tidbops.manager.plugins.module_utils import yamldoc


def matches(task, stage, sources):
    """Client-side filtering: DM's own stage filter wants every subtask in exactly that stage
    (so a stopped task, read Paused, never matches Stopped) and its source filter wants the
    exact source set."""
    status = task.get("status_list") or []
    if stage:
        summary = dm_api.task_stage(status)
        if stage == "Paused":
            summary = "Paused" if summary in ("Stopped", "Error") else summary
        if summary != stage:
            return False
    if sources:
        names = [s.get("source_name") for s in (task.get("source_config") or {}).get("source_conf") or []]
        if not set(names) & set(sources):
            return False
    return True


def listing(task):
    status = task.get("status_list") or []
    return dict(name=task.get("name"), task_mode=task.get("task_mode"), stage=dm_api.task_stage(status),
                sources=sorted(s.get("source_name") for s in (task.get("source_config") or {}).get("source_conf") or []),
                status=dm_api.summarize_status(status))


def one_task(module, client):
    params = module.params
    task = client.get_task(params["name"], with_status=True)
    if task is None:
        return dict(changed=False, exists=False)
    status = [s for s in task.get("status_list") or []
              if not params["sources"] or s.get("source_name") in params["sources"]]
    text = yamldoc.dump(cfg.to_dmctl_yaml(task), sort_keys=False)
    changed = bool(params["dest"]) and write_if_different(module, params["dest"], text)
    return dict(changed=changed, exists=True, task=cfg.masked_task(dict((k, v) for k, v in task.items() if k != "status_list")),
                task_yaml=text, stage=dm_api.task_stage(status), status=dm_api.summarize_status(status))


def write_if_different(module, dest, text):
    try:
        with open(dest) as handle:
            if handle.read() == text:
                return False
    except (IOError, OSError):
        pass
    if not module.check_mode:
        directory = os.path.dirname(os.path.abspath(dest))
        tmp = os.path.join(directory, ".%s.tmp" % os.path.basename(dest))
        try:
            with open(tmp, "w") as handle:
                handle.write(text)
            os.chmod(tmp, 0o600)
            module.atomic_move(tmp, dest)
        except (IOError, OSError) as exc:
            raise TidbOpsError("INVALID_ARGUMENT", "cannot write dest %s: %s" % (dest, exc))
    return True


def report(module):
    params = module.params
    client = dm_api.DmClient.from_params(params)
    if params["name"]:
        return one_task(module, client)
    tasks = [listing(t) for t in client.list_tasks(with_status=True) if matches(t, params["stage"], params["sources"])]
    return dict(changed=False, tasks=sorted(tasks, key=lambda t: t["name"]))


def main():
    module = TidbOpsModule(
        dict(
            name=dict(type="str"),
            stage=dict(type="str", choices=["Running", "Stopped", "Paused", "Finished", "Error"]),
            sources=dict(type="list", elements="str"),
            dest=dict(type="path"),
        ),
        blocks=("dm",), requires_yaml=True, supports_check_mode=True,
        required_by=dict(dest="name"))
    module.run(report, module)


if __name__ == "__main__":
    main()
