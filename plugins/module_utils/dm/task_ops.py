# -*- coding: utf-8 -*-
# Copyright: (c) 2026, tidbops.manager contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The task operations that need more than one API call: stop-and-wait, start-and-wait, the
update that stops every source first, and the precheck without creating the task.

A PUT is checked by DM against the first source's stage only (tiflow#12815), so an update
stops every source and waits until none runs, whatever the caller wants afterwards.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import uuid

from ansible_collections.tidbops.manager.plugins.module_utils.dm import api as dm_api
from ansible_collections.tidbops.manager.plugins.module_utils.dm.check import summarize_check
from ansible_collections.tidbops.manager.plugins.module_utils.errors import TidbOpsError
from ansible_collections.tidbops.manager.plugins.module_utils.polling import poll_until


class TaskOps(object):
    def __init__(self, client, wait_timeout=300, error_count=10, warn_count=10, poll=poll_until):
        self.client = client
        self.wait_timeout = wait_timeout
        self.error_count = error_count
        self.warn_count = warn_count
        self.poll = poll

    # -- precheck ----------------------------------------------------------------------

    def check_summary(self, text, passed):
        return summarize_check(text, passed, self.error_count, self.warn_count)

    def check_failure(self, error):
        """A 26005 error with the check's errors and warnings attached."""
        if error.code == "DM_TASK_CHECK_FAILED":
            error.details["check"] = self.check_summary(error.msg, False)
        return error

    def create(self, task):
        """POST the task (it is created Stopped); returns the check summary."""
        try:
            answer = self.client.create_task(task)
        except TidbOpsError as error:
            raise self.check_failure(error)
        return self.check_summary(answer.get("check_result") or "", True)

    def probe_check(self, task):
        """The precheck over the OpenAPI, which has no check endpoint: create the task stopped
        under a temporary name (DM prechecks every create), read the result, delete it."""
        probe = dict(task, name="%s-check-%s" % (task["name"], uuid.uuid4().hex[:8]))
        try:
            summary = self.create(probe)
        except TidbOpsError as error:
            if error.code != "DM_TASK_CHECK_FAILED":
                raise
            return error.details["check"]
        self.client.delete_task(probe["name"], force=True)
        return summary

    # -- stages --------------------------------------------------------------------------

    def statuses(self, name, sources=None):
        status = dm_api.status_by_source(self.client.task_status(name))
        return dict((s, status.get(s, {})) for s in (sources or sorted(status)))

    def stop(self, name, sources=None, timeout_duration=None):
        """Stop the sources (all when None) and wait until none runs; a stop reads Paused."""
        self.client.stop_task(name, sources=sources, timeout_duration=timeout_duration)
        return self.wait(name, sources, dm_api.is_settled_stopped, "stop")

    def start(self, name, sources=None, wait=True, **options):
        """Start the sources and, with wait, wait until each runs or has finished; a subtask
        that stays paused with an error fails the start with its error."""
        self.client.start_task(name, sources=sources, **options)
        if not wait:
            return self.statuses(name, sources)
        errors = {}

        def settled(status):
            if status.get("stage") in ("Running", dm_api.FINISHED_STAGE):
                return True
            # A start right after an error may still read the old pause: fail only when it lasts.
            source = status.get("source_name")
            if status.get("stage") == "Paused" and status.get("error_msg"):
                errors[source] = errors.get(source, 0) + 1
                if errors[source] >= 3:
                    raise TidbOpsError("DM_TASK_START_FAILED", "task %s: source %s paused with an error: %s"
                                       % (name, source, status["error_msg"]), status=dm_api.summarize_status([status]))
            else:
                errors.pop(source, None)
            return False

        return self.wait(name, sources, settled, "start")

    def wait(self, name, sources, settled, what):
        def probe():
            current = self.statuses(name, sources)
            return current if current and all(settled(s) for s in current.values()) else None

        done, current = self.poll(probe, self.wait_timeout, first_interval=0.5, max_interval=1.0)
        if not done:
            current = self.statuses(name, sources)
            raise TidbOpsError("DM_TIMEOUT", "task %s did not %s within %d seconds" % (name, what, self.wait_timeout),
                               status=dm_api.summarize_status(current.values()))
        return current

    def update(self, task):
        """PUT the task with every source stopped; returns (check summary, sources that ran)."""
        running = self.running_sources(task["name"])
        if running:
            self.stop(task["name"])
        try:
            answer = self.client.update_task(task)
        except TidbOpsError as error:
            if running:
                # Leave the task as it was found: running.
                self.client.start_task(task["name"], sources=running)
            raise self.check_failure(error)
        return self.check_summary(answer.get("check_result") or "", True), running

    def recreate(self, task):
        """Delete keeping the checkpoints (keep_meta) and create again, so the task resumes
        where it was; returns (check summary, sources that ran)."""
        running = self.running_sources(task["name"])
        if running:
            self.stop(task["name"])
        self.client.delete_task(task["name"], keep_meta=True)
        return self.create(task), running

    def running_sources(self, name, finished=False):
        """The sources whose expected stage is (probably) Running: running, pausing, or paused by an
        error (DM keeps expecting Running, and auto-resume retries it); with finished, also the
        Finished ones (DM's expected stage stays Running, so a delete without force is refused)."""
        return sorted(s for s, status in self.statuses(name).items()
                      if dm_api.is_active(status) or status.get("stage") in dm_api.TRANSIENT_STAGES
                      or dm_api.is_error_paused(status) or (finished and status.get("stage") == dm_api.FINISHED_STAGE))
