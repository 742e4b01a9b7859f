# -*- coding: utf-8 -*-
# Copyright: (c) 2026, tidbops.manager contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""dmctl, for what the DM OpenAPI lacks: the task check with error/warning limits, shard DDL
locks and leader eviction (dm/ctl/master/*.go).

dmctl's exit code is 0 even when the operation failed (only transport and usage errors exit 1),
so the outcome is the ``result`` field of its JSON; and check-task splices the checker's raw
text into that JSON (tiflow#11736), so its output is parsed leniently.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json
import re

from ansible_collections.tidbops.manager.plugins.module_utils.errors import TidbOpsError
from ansible_collections.tidbops.manager.plugins.module_utils.tools.runner import CommandRunner

RESULT_RE = re.compile(r'"result"\s*:\s*(true|false)')
MSG_RE = re.compile(r'"msg"\s*:\s*"((?:[^"\\]|\\.)*)"')


def find_dmctl(module, dmctl_path, purpose):
    """The dmctl binary, or DM_DMCTL_NOT_FOUND saying what needs it."""
    path = dmctl_path or module.get_bin_path("dmctl")
    if not path:
        raise TidbOpsError("DM_DMCTL_NOT_FOUND", "%s exists only in dmctl, not in the DM OpenAPI, and no dmctl "
                           "binary was found; install dmctl (tiup install dmctl) or set dmctl_path" % purpose)
    return path


def master_addr(url):
    """dmctl's --master-addr (host:port) of a DM-master URL."""
    return re.sub(r"^[a-z]+://", "", url.strip()).rstrip("/")


def parse_output(text):
    """The JSON object dmctl printed, or a lenient reading of it ({"result", "msg", "raw"})."""
    start = (text or "").find("{")
    if start >= 0:
        try:
            doc, _end = json.JSONDecoder().raw_decode(text[start:])
            if isinstance(doc, dict):
                return doc
        except ValueError:
            pass
    result = RESULT_RE.search(text or "")
    msg = MSG_RE.search(text or "")
    if result is None:
        return None
    return dict(result=result.group(1) == "true", msg=msg.group(1) if msg else "", raw=text)


class Dmctl(object):
    def __init__(self, module, path, url):
        self.runner = CommandRunner(module)
        self.path = path
        self.addr = master_addr(url)

    def run(self, args, secret_files=None, what="dmctl"):
        """Run ``dmctl --master-addr A args``; returns its JSON answer (result true) or raises."""
        result = self.runner.run([self.path, "--master-addr", self.addr] + list(args), secret_files=secret_files)
        doc = parse_output(result.stdout)
        if doc is None:
            output = (result.stderr or result.stdout or "")[-500:]
            raise TidbOpsError("DM_DMCTL_FAILED", "%s printed no result (rc %d): %s" % (what, result.rc, output),
                               cmd=result.cmd, rc=result.rc)
        doc["cmd"] = result.cmd
        return doc

    def check_task(self, task_yaml, error_count, warn_count, start_time=None):
        """dmctl check-task (the RFC's ``task check``). The task file holds the target password, so
        it is a 0600 file in a private directory, removed afterwards."""
        args = ["check-task", "@TASK@", "--error", str(error_count), "--warn", str(warn_count)]
        if start_time:
            args += ["--start-time", start_time]
        return self.run(args, secret_files={"@TASK@": ("task.yaml", task_yaml)}, what="dmctl check-task")

    def ddl_locks(self, task=None):
        doc = self.ok(self.run(["shard-ddl-lock"] + ([task] if task else []), what="dmctl shard-ddl-lock"))
        return doc.get("locks") or []

    def unlock_ddl_lock(self, lock_id, owner=None, force_remove=False):
        args = ["shard-ddl-lock", "unlock", lock_id]
        if owner:
            args += ["--owner", owner]
        if force_remove:
            args.append("--force-remove")
        return self.ok(self.run(args, what="dmctl shard-ddl-lock unlock"))

    def operate_leader(self, op):
        return self.ok(self.run(["operate-leader", op], what="dmctl operate-leader"))

    @staticmethod
    def ok(doc):
        if not doc.get("result"):
            raise TidbOpsError("DM_DMCTL_FAILED", "dmctl answered result false: %s" % (doc.get("msg") or doc.get("raw") or ""),
                               cmd=doc.get("cmd"))
        return doc
