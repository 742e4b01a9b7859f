#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, tidbops.manager contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
---
module: dm_task
short_description: Create, update, start, stop, check and delete TiDB DM data migration tasks
version_added: "0.2.0"
description:
  - Manages a DM task over the DM-master OpenAPI (C(/api/v1/tasks)), following the task life
    cycle of DM's task-manageability RFC - a task is created stopped, started, stopped, updated
    while stopped, and deleted.
  - The task is given as a dmctl task YAML (O(task_file), or O(task) as a dict), converted to the
    OpenAPI model, or as the OpenAPI C(Task) model itself. Features the OpenAPI cannot express
    (expression filters, validators, column mappings, Do filters, ignore-dbs/ignore-tables,
    per-source unit configs) fail with C(DM_TASK_UNSUPPORTED) before anything changes.
  - An existing task is compared with the wanted one after normalising both (DM regenerates the
    task it returns - filter rules renamed, defaults filled in, lists reordered). A difference DM can
    apply (block-allow list and routes, binlog filters, C(repl_threads), C(repl_batch)) is applied by
    stopping every source, updating, and starting the sources that ran again. Any other difference
    fails with C(DM_TASK_NOT_UPDATABLE), or with O(recreate=true) deletes the task keeping its
    checkpoints (C(keep_meta)) and creates it again.
  - O(check_only=true) is the RFC's C(task check) - it runs DM's precheck and reports its errors
    and warnings, and changes nothing.
options:
  name:
    description:
      - The task's name. Defaults to the name in O(task) or O(task_file); when both are given they
        must agree.
    type: str
  task:
    description:
      - The task, as a dmctl task YAML (keys such as C(task-mode), C(mysql-instances)) or as the
        OpenAPI C(Task) model (C(task_mode), C(source_config), C(table_migrate_rule)).
      - The target password in it is never returned or logged.
    type: dict
  task_file:
    description:
      - A file on the managed node holding the task (dmctl task YAML, or the OpenAPI model as YAML or JSON).
    type: path
  state:
    description:
      - V(present) creates the task (DM creates it stopped) and updates a different one; it leaves an
        existing task's stage alone (a running task updated is started again).
      - V(started) also starts it (the sources in O(sources), default all) unless running or finished.
      - V(stopped) also stops it (it then reads Paused in DM's status). A subtask paused by an error is
        stopped too (DM still expects it to run and auto-resume retries it) on every run, without
        reporting a change (action C(stop_errored)), because the API cannot show whether it was.
      - V(absent) deletes it, stopping it first unless O(force=true) - including finished and
        error-paused subtasks, which DM still expects to run and so refuses to delete without force.
      - For V(started) and V(stopped) without O(task) or O(task_file), the task must exist.
    type: str
    choices: [present, started, stopped, absent]
    default: present
  sources:
    description:
      - The sources to start or stop (C(source_name_list)); by default all the task's sources.
    type: list
    elements: str
  start_time:
    description:
      - Where the binlog replication starts, a time such as V(2026-01-02 15:04:05) or
        V(2026-01-02T15:04:05+08:00) (without a zone, the upstream's). Sent only when the task is started.
      - Required by DM to start an incremental task without binlog meta.
    type: str
  safe_mode_time_duration:
    description:
      - How long safe mode lasts after the start, a Go duration such as V(60s). Sent only when the task is started.
    type: str
  reset:
    description:
      - With O(state=started), start from scratch - stop the task if it runs and start it with
        C(remove_meta), which drops its checkpoints downstream. Every run with O(reset=true) does it again.
      - Without it C(remove_meta) is never sent, so a restarted task resumes from its checkpoint.
    type: bool
    default: false
  timeout:
    description:
      - With O(state=stopped), how long DM waits for the subtasks to stop (C(timeout_duration)),
        a Go duration such as V(10s).
    type: str
  wait:
    description:
      - Wait until the started sources run (or have finished) and the stopped ones have stopped.
    type: bool
    default: true
  wait_timeout:
    description:
      - Seconds to wait for a start, a stop or the stop before an update.
    type: int
    default: 300
  force:
    description:
      - With O(state=absent), delete even while subtasks run (DM's C(force)).
    type: bool
    default: false
  keep_meta:
    description:
      - With O(state=absent), keep the checkpoints downstream, so a task created again with this
        name resumes (DM's C(keep_meta), recent DM versions; older ones ignore it and remove them).
    type: bool
    default: false
  recreate:
    description:
      - When the wanted task differs in a field DM cannot update, delete the task keeping its
        checkpoints and create it again, instead of failing with C(DM_TASK_NOT_UPDATABLE).
    type: bool
    default: false
  update_password:
    description:
      - V(on_create) never compares the target password of an existing task.
      - V(always) counts a target password different from the one DM returns as a change
        (which DM cannot update, see O(recreate)). Use it only with plaintext passwords; DM stores an
        encrypted one as given.
    type: str
    choices: [always, on_create]
    default: on_create
  check_only:
    description:
      - Run DM's precheck of the task and report it (RFC C(task check)); change nothing.
      - With C(dmctl) available (O(dmctl_path) or E(PATH)) this is C(dmctl check-task), honouring
        O(error_count), O(warn_count) and O(start_time). Without it the OpenAPI, which has no check
        endpoint, is used - the task is created stopped under a temporary name, which is how DM
        prechecks, and deleted at once; this is skipped in check mode.
      - The module fails with C(DM_TASK_CHECK_FAILED) when the check finds errors.
    type: bool
    default: false
  error_count:
    description:
      - The most precheck errors to report (dmctl C(--error)).
    type: int
    default: 10
  warn_count:
    description:
      - The most precheck warnings to report (dmctl C(--warn)).
    type: int
    default: 10
extends_documentation_fragment:
  - tidbops.manager.dm
  - ansible.builtin.action_common_attributes
  - tidbops.manager.attributes
attributes:
  check_mode:
    support: full
    details: Reads the task and reports what would change; O(check_only) over the OpenAPI is skipped.
  diff_mode:
    support: full
    details: Shows the normalised task before and after, without passwords.
notes:
  - DM answers a start or stop of a missing task with success and does nothing, so the module
    always reads the task first.
  - Fields DM does not return (C(sorting_dir), C(disk_quota) and other physical-import settings of
    C(full_migrate_conf), TLS key contents) are sent but not compared.
  - Filters are compared by content per source - DM attaches every filter of a source to every
    rule of that source when it returns the task.
seealso:
  - module: tidbops.manager.dm_task_info
  - module: tidbops.manager.dm_source
  - name: DM OpenAPI
    description: The DM-master OpenAPI.
    link: https://docs.pingcap.com/tidb/stable/dm-open-api
author:
  - tidbops.manager contributors (@tidbops)
'''

EXAMPLES = r'''
- name: Create the task from a dmctl task file and start it
  tidbops.manager.dm_task:
    task_file: /etc/dm/task-orders.yaml
    state: started
    dm_master_url: http://dm-master-1:8261

- name: Check the task only (errors and warnings, nothing changed)
  tidbops.manager.dm_task:
    task_file: /etc/dm/task-orders.yaml
    check_only: true
    error_count: 5
    warn_count: 5

- name: Start an incremental task from a point in time, with safe mode for a minute
  tidbops.manager.dm_task:
    name: orders-incr
    state: started
    start_time: "2026-03-01 00:00:00"
    safe_mode_time_duration: 60s

- name: Stop one source of the task
  tidbops.manager.dm_task:
    name: orders
    state: stopped
    sources: [mysql-01]
    timeout: 30s

- name: Delete the task, keeping its checkpoints
  tidbops.manager.dm_task:
    name: orders
    state: absent
    keep_meta: true
'''

RETURN = r'''
task:
  description: The task as DM returns it (OpenAPI model), the target password masked; in check mode the wanted task.
  returned: when the task exists or is wanted
  type: dict
stage:
  description: >-
    The task's stage after the run - V(Running) when a subtask runs, V(Finished) when all have
    finished, V(Error) when a subtask paused with an error, V(Stopped) otherwise (DM reads a stopped subtask as Paused).
  returned: when the task exists
  type: str
  sample: Running
status:
  description: Per source - C(source_name), C(worker_name), C(stage), C(unit), C(error_msg) and the unit's status.
  returned: when the task exists
  type: list
  elements: dict
actions:
  description: >-
    What the module did (or, in check mode, would do) - create, update, recreate, start, stop, delete;
    stop_errored (error-paused subtasks stopped, not counted as a change).
  returned: always
  type: list
  elements: str
  sample: [stop, update, start]
changed_fields:
  description: The fields of the normalised task that differ from the wanted task.
  returned: always
  type: list
  elements: str
  sample: [table_migrate_rule]
check:
  description: >-
    DM's precheck result (create, update or O(check_only)) - C(passed), C(message), C(errors) and
    C(warnings) (each with C(name), C(state), C(errors), C(instruction)), C(error_total), C(warn_total).
  returned: when DM ran a precheck
  type: dict
check_method:
  description: With O(check_only), V(dmctl) or V(openapi).
  returned: when check_only
  type: str
error_code:
  description: A stable code for the failure (see docs/error-codes.md).
  returned: failure
  type: str
  sample: DM_TASK_NOT_UPDATABLE
dm_error_code:
  description: DM's own error code, when DM refused the request.
  returned: failure
  type: int
  sample: 46035
'''

from ansible_collections.tidbops.manager.plugins.module_utils.module import TidbOpsModule
from ansible_collections.tidbops.manager.plugins.module_utils.specs import INT32

from ansible_collections.tidbops.manager.plugins.module_utils.dm import api as dm_api
from ansible_collections.tidbops.manager.plugins.module_utils.dm import task_config as cfg
from ansible_collections.tidbops.manager.plugins.module_utils.tools.dmctl import Dmctl, find_dmctl
from ansible_collections.tidbops.manager.plugins.module_utils.dm.task_ops import TaskOps
from ansible_collections.tidbops.manager.plugins.module_utils.errors import TidbOpsError
from ansible_collections.tidbops.manager.plugins.module_utils import yamldoc


def load_task(params):
    """(wanted OpenAPI Task or None, the dmctl YAML dict when given as such, warnings)."""
    config = params["task"]
    if params["task_file"]:
        config = yamldoc.load_file(params["task_file"], "DM_TASK_INVALID", "task_file")
    if config is None:
        return None, None, []
    task, warnings = cfg.to_openapi_task(config)
    if params["name"] and params["name"] != task["name"]:
        raise TidbOpsError("INVALID_ARGUMENT", "name %s differs from the task's name %s" % (params["name"], task["name"]))
    return task, (None if cfg.is_openapi_task(config) else config), warnings


class TaskRun(object):
    """One run of the module: read the task, decide, act, report."""

    def __init__(self, module, client):
        self.module = module
        self.params = module.params
        self.client = client
        self.ops = TaskOps(client, module.params["wait_timeout"], module.params["error_count"],
                           module.params["warn_count"])
        self.act = module.act
        self.result = dict(changed_fields=[])
        self.wanted, self.wanted_yaml, warnings = load_task(module.params)
        if self.wanted and self.wanted["target_config"].get("password"):
            # The password inside task/task_file has no no_log of its own: mask it in every result.
            module.no_log_values.add(str(self.wanted["target_config"]["password"]))
        for warning in warnings:
            module.warn(warning)
        self.name = self.params["name"] or (self.wanted or {}).get("name")
        if not self.name or (self.params["check_only"] and self.wanted is None):
            raise TidbOpsError("DM_TASK_INVALID", "task_file %s holds no task" % self.params["task_file"])

    def run(self):
        actual = self.client.get_task(self.name, with_status=True)
        before = cfg.normalize_task(actual) if actual else None
        if self.params["check_only"]:
            return self.check_only()
        state = self.params["state"]
        if state == "absent":
            self.absent(actual)
        else:
            if self.wanted is None and actual is None:
                raise TidbOpsError("DM_TASK_NOT_FOUND", "task %s does not exist; give task or task_file to create it"
                                   % self.name)
            restart = self.ensure_config(actual) if self.wanted else []
            if state == "started":
                self.started()
            elif state == "stopped":
                self.stopped()
            elif restart and not self.module.check_mode:
                self.ops.client.start_task(self.name, sources=restart)
        return self.report(before)

    # -- config -------------------------------------------------------------------------

    def ensure_config(self, actual):
        """Create or update the task; returns the sources to start again for state present."""
        if actual is None:
            if self.act("create"):
                self.result["check"] = self.ops.create(self.wanted)
            return []
        fields = cfg.changed_fields(cfg.normalize_task(self.wanted), cfg.normalize_task(actual))
        if self.params["update_password"] == "always" and cfg.password_changed(self.wanted, actual):
            fields.append("target_config.password")
        self.result["changed_fields"] = fields
        if not fields:
            return []
        blocked = cfg.not_updatable(fields)
        if blocked and not self.params["recreate"]:
            raise TidbOpsError("DM_TASK_NOT_UPDATABLE", "task %s differs in fields DM cannot update (%s); set "
                               "recreate: true to delete it keeping its checkpoints and create it again"
                               % (self.name, ", ".join(blocked)), changed_fields=fields)
        if blocked:
            return self.recreate()
        if not self.act("update"):
            return []
        try:
            self.result["check"], running = self.ops.update(self.wanted)
        except TidbOpsError as error:
            if error.code != "DM_TASK_NOT_UPDATABLE" or not self.params["recreate"]:
                raise
            return self.recreate()
        return running

    def recreate(self):
        if not self.act("recreate"):
            return []
        self.result["check"], running = self.ops.recreate(self.wanted)
        return running

    # -- stages ---------------------------------------------------------------------------

    def targets(self):
        """The sources to start/stop: O(sources) or all of the task's."""
        if self.module.check_mode and "create" in self.module.actions:
            current = dict((s["source_name"], {}) for s in self.wanted["source_config"]["source_conf"])
        else:
            current = self.ops.statuses(self.name)
        wanted = self.params["sources"] or sorted(current)
        unknown = sorted(set(wanted) - set(current))
        if unknown:
            raise TidbOpsError("INVALID_ARGUMENT", "task %s has no source %s" % (self.name, ", ".join(unknown)))
        return dict((s, current[s]) for s in wanted)

    def started(self):
        targets = self.targets()
        options = dict(start_time=self.params["start_time"],
                       safe_mode_time_duration=self.params["safe_mode_time_duration"])
        if self.params["reset"]:
            running = [s for s, st in targets.items() if dm_api.is_active(st) or st.get("stage") in dm_api.TRANSIENT_STAGES]
            if running and self.act("stop"):
                self.ops.stop(self.name, running)
            if self.act("start"):
                self.ops.start(self.name, sorted(targets), self.params["wait"], remove_meta=True, **options)
            return
        to_start = sorted(s for s, st in targets.items()
                          if not dm_api.is_active(st) and st.get("stage") != dm_api.FINISHED_STAGE)
        if to_start and self.act("start"):
            self.ops.start(self.name, to_start, self.params["wait"], **options)

    def stopped(self):
        targets = self.targets()
        to_stop = sorted(s for s, st in targets.items() if not dm_api.is_settled_stopped(st) and st)
        # A subtask paused by an error still has the expected stage Running (auto-resume retries it, a
        # delete without force is refused); the API cannot show whether it was stopped since, and the
        # error stays in its status after a stop, so it is stopped on every run without counting as a change.
        errored = sorted(s for s, st in targets.items() if dm_api.is_error_paused(st))
        if errored and not self.module.check_mode:
            self.module.actions.append("stop_errored")
            self.client.stop_task(self.name, sources=errored, timeout_duration=self.params["timeout"])
        if to_stop and self.act("stop"):
            if self.params["wait"]:
                self.ops.stop(self.name, to_stop, self.params["timeout"])
            else:
                self.client.stop_task(self.name, sources=to_stop, timeout_duration=self.params["timeout"])

    def absent(self, actual):
        if actual is None:
            return
        # Finished and error-paused subtasks are still expected Running: DM refuses to delete them without force.
        running = self.ops.running_sources(self.name, finished=True)
        if running and not self.params["force"] and self.act("stop"):
            self.ops.stop(self.name, running)
        if self.act("delete"):
            self.client.delete_task(self.name, force=self.params["force"], keep_meta=self.params["keep_meta"])

    # -- check only --------------------------------------------------------------------------

    def check_only(self):
        dmctl_path = self.params["dmctl_path"] or self.module.get_bin_path("dmctl")
        if dmctl_path:
            self.result["check_method"] = "dmctl"
            check = self.dmctl_check(find_dmctl(self.module, dmctl_path, "task check"))
        elif self.module.check_mode:
            self.result["check_method"] = "openapi"
            self.module.warn("check_only without dmctl creates a temporary task, so it is skipped in check mode")
            return self.module.result(**self.result)
        else:
            self.result["check_method"] = "openapi"
            check = self.ops.probe_check(self.wanted)
        self.result["check"] = check
        if not check["passed"]:
            raise TidbOpsError("DM_TASK_CHECK_FAILED", "the precheck of task %s failed: %s"
                               % (self.name, check["message"]), check=check, check_method=self.result["check_method"])
        return self.module.result(**self.result)

    def dmctl_check(self, dmctl_path):
        dmctl = Dmctl(self.module, dmctl_path, self.params["dm_master_url"][0])
        document = self.wanted_yaml or cfg.to_dmctl_yaml(self.wanted, mask=False)
        answer = dmctl.check_task(yamldoc.dump(document), self.params["error_count"], self.params["warn_count"],
                                  self.params["start_time"])
        return self.ops.check_summary(answer.get("raw") or answer.get("msg") or "", answer.get("result"))

    # -- report --------------------------------------------------------------------------------

    def report(self, before):
        actual = None if self.module.check_mode else self.client.get_task(self.name, with_status=True)
        if self.module.check_mode:
            actual = None if self.params["state"] == "absent" else (self.wanted or self.client.get_task(self.name))
        if actual:
            self.result["task"] = cfg.masked_task(dict((k, v) for k, v in actual.items() if k != "status_list"))
            status = actual.get("status_list") or []
            self.result["status"] = dm_api.summarize_status(status)
            self.result["stage"] = dm_api.task_stage(status)
        if self.module._diff:
            after = cfg.normalize_task(self.wanted) if self.wanted and self.params["state"] != "absent" else None
            if after is None and self.params["state"] != "absent":
                after = before
            self.result["diff"] = dict(before=yamldoc.dump(before), after=yamldoc.dump(after))
        return self.module.result(**self.result)


def main():
    module = TidbOpsModule(
        dict(
            name=dict(type="str"),
            task=dict(type="dict", no_log=False),
            task_file=dict(type="path"),
            state=dict(type="str", default="present", choices=["present", "started", "stopped", "absent"]),
            sources=dict(type="list", elements="str"),
            start_time=dict(type="str"),
            safe_mode_time_duration=dict(type="str"),
            reset=dict(type="bool", default=False),
            timeout=dict(type="str"),
            wait=dict(type="bool", default=True),
            wait_timeout=dict(type="int", default=300),
            force=dict(type="bool", default=False),
            keep_meta=dict(type="bool", default=False),
            recreate=dict(type="bool", default=False),
            update_password=dict(type="str", default="on_create", choices=["always", "on_create"], no_log=False),
            check_only=dict(type="bool", default=False),
            error_count=dict(type="int", default=10),
            warn_count=dict(type="int", default=10),
        ),
        ranges=dict(wait_timeout=(0, INT32), error_count=(0, INT32), warn_count=(0, INT32)),
        blocks=("dm",), requires_yaml=True, supports_check_mode=True,
        mutually_exclusive=[["task", "task_file"]],
        required_one_of=[["name", "task", "task_file"]],
        required_if=[("check_only", True, ("task", "task_file"), True)],
        # task may hold the target password: no syslog line of the invocation.
        no_log=True)
    module.run(lambda: TaskRun(module, dm_api.DmClient.from_params(module.params)).run())


if __name__ == "__main__":
    main()
