# -*- coding: utf-8 -*-
# Copyright: (c) 2026, tidbops.manager contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""TiDB Lightning: the tidb-lightning.toml built from the module's options, and what its
output means.

The TOML carries the TiDB password (``[tidb] password``), so it is only ever written as a 0600
file in a private directory that is removed when Lightning exits (CommandRunner's
secret_files); the job's working directory keeps Lightning's log and its file checkpoint,
which is what makes a re-run resume where a killed run stopped. TiUniManager's fields are the
starting point (tiunimanager.md §3): file checkpoint in the working directory, local backend
with sorted-kv-dir there, check-requirements off unless asked.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json
import os
import re

from ansible_collections.tidbops.manager.plugins.module_utils.errors import TidbOpsError
from ansible_collections.tidbops.manager.plugins.module_utils.tools.program import last_line_with

CHECKPOINT_FILE = "tidb_lightning_checkpoint.pb"
LOG_FILE = "tidb-lightning.log"
CONFIG_FILE = "tidb-lightning.toml"  # holds the TiDB password: 0600, in the job's directory, only while Lightning runs
SUCCESS = "tidb lightning exit successfully"
# Lightning logs ["restore table completed"] [table=`db`.`t`] as each table is done.
# main.go's last line: finished=true once every table is imported (a cancel or a failure: false).
EXIT_RE = re.compile(r'\["tidb lightning exit"\] \[finished=(true|false)\]')
# import.go's pre-check when the checkpoint marks a table failed by an earlier run (its target
# database died mid-import, say): Lightning will not touch the table again on its own.
FAILED_LAST_TIME_RE = re.compile(r"this run will stop now, (`(?:[^`]|``)+`\.`(?:[^`]|``)+`) failed in step\(([^)]*)\)")
TABLE_DONE_RE = re.compile(r'"restore table completed"\] \[table=`((?:[^`]|``)+)`\.`((?:[^`]|``)+)`\]')
CANCELED = "tidb lightning canceled"
# [mydumper.csv] keys, from the module's csv option names.
CSV_KEYS = (("separator", "separator"), ("delimiter", "delimiter"), ("terminator", "terminator"),
            ("header", "header"), ("null", "null"), ("backslash_escape", "backslash-escape"),
            ("trim_last_separator", "trim-last-separator"), ("not_null", "not-null"))


def toml_value(value):
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    # A JSON string is a TOML basic string (same escapes), once characters beyond the BMP stay
    # themselves (JSON would write surrogate pairs, which TOML refuses) and DEL is escaped.
    return json.dumps(str(value), ensure_ascii=False).replace("\x7f", "\\u007f")


def render_toml(sections):
    """TOML text of {section: {key: value}} (section names may be dotted); None values skipped."""
    lines = []
    for section, values in sections.items():
        present = [(k, v) for k, v in values.items() if v is not None]
        if not present:
            continue
        lines.append("[%s]" % section)
        lines += ["%s = %s" % (key, toml_value(value)) for key, value in present]
        lines.append("")
    return "\n".join(lines)


def lightning_config(params, job_dir, data_source, pd_addr=None, status_port=None):
    """The sections of tidb-lightning.toml (the password included: handle as a secret)."""
    backend = params["backend"]
    sorted_kv_dir = params["sorted_kv_dir"] or (os.path.join(job_dir, "sorted-kv") if backend == "local" else None)
    csv = params["csv"] or {}
    sections = {
        "lightning": {"level": "info", "file": os.path.join(job_dir, LOG_FILE),
                      "check-requirements": params["check_requirements"]},
        "checkpoint": {"enable": True, "driver": "file", "dsn": os.path.join(job_dir, CHECKPOINT_FILE)},
        "tikv-importer": {"backend": backend, "sorted-kv-dir": sorted_kv_dir},
        "conflict": {"strategy": params["conflict_strategy"]},
        "mydumper": {"data-source-dir": data_source, "no-schema": params["no_schema"] or None,
                     "filter": params["filter"] or None},
        "mydumper.csv": dict((key, csv[name]) for name, key in CSV_KEYS if name in csv),
        "tidb": {"host": params["login_host"], "port": params["login_port"], "user": params["login_user"],
                 "password": params["login_password"] or "", "status-port": status_port, "pd-addr": pd_addr},
        "post-restore": {"checksum": params["checksum"], "analyze": params["analyze"]},
    }
    tls = {"ca-path": params.get("ca_cert"), "cert-path": params.get("client_cert"), "key-path": params.get("client_key")}
    if any(tls.values()):
        sections["tidb.security"] = tls
    return sections


def finished_in_log(log_text):
    """Whether the last run whose log this is ended with every table imported (True), ended
    otherwise (False), or is not seen ending (None)."""
    ends = EXIT_RE.findall(log_text or "")
    return ends[-1] == "true" if ends else None


def outcome(result, log_text, checkpoint=None):
    """None when Lightning succeeded, else IMPORT_FAILED in Lightning's own words, or
    IMPORT_CHECKPOINT_FAILED saying what to run when its checkpoint holds a failed table."""
    text = (result.stdout or "") + "\n" + (result.stderr or "")
    if result.rc == 0 and SUCCESS in text:
        return
    failed = FAILED_LAST_TIME_RE.findall(text)
    if failed:
        tables = sorted(set(table for table, _step in failed))
        raise TidbOpsError(
            "IMPORT_CHECKPOINT_FAILED",
            "TiDB Lightning's checkpoint %s marks %s failed by an earlier run (step %s), so it will not import "
            "them again: their rows may be half imported. To import them again from scratch, run "
            "`tiup tidb-lightning-ctl --checkpoint-error-destroy='%s' --config=<file>` (it drops those tables and "
            "their checkpoints; the other tables keep theirs), with a file holding [checkpoint] driver = \"file\", "
            "dsn = \"%s\" and the [tidb] login; then run this task again. With on_failure=remove this refusal "
            "removes the whole checkpoint instead: drop the tables it names first, then run the task again."
            % (checkpoint or "", ", ".join(tables), ", ".join(sorted(set(s for _t, s in failed))), ",".join(tables),
               checkpoint or ""),
            failed_tables=tables, checkpoint=checkpoint, rc=result.rc, cmd=result.cmd)
    if result.rc == 0 and CANCELED in text:
        why = "Lightning was cancelled (SIGTERM/SIGINT); run the task again to resume from its checkpoint"
    else:
        why = last_line_with(text, "encountered error", "Failed to parse", "pre-check failed", "Error") \
            or last_line_with(log_text, "[ERROR]") or text.strip()[-2000:]
    raise TidbOpsError("IMPORT_FAILED", "TiDB Lightning failed (exit %s): %s" % (result.rc, why),
                       rc=result.rc, cmd=result.cmd, stdout=result.stdout[-4000:], stderr=result.stderr[-4000:])
