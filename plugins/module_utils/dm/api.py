# -*- coding: utf-8 -*-
# Copyright: (c) 2026, tidbops.manager contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The DM-master OpenAPI (``/api/v1/``) client.

Any DM-master answers: a non-leader forwards the request to the leader. Every DM error is
``HTTP 400 {"error_code", "error_msg"}``; it becomes a TidbOpsError with a DM_* code and the
DM code as ``dm_error_code``. The quirks of the API are handled here once:

- a missing task reads as 400 with code 46018, a missing source as a bare 404: both are None;
- start/stop of a missing task answer 200 and do nothing, so callers always read first;
- a stopped subtask reads ``Paused`` (the expected stage Stopped becomes a worker pause).
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json

from ansible.module_utils.six.moves.urllib.parse import quote, urlencode

from ansible_collections.tidbops.manager.plugins.module_utils.errors import TidbOpsError
from ansible_collections.tidbops.manager.plugins.module_utils.tools.http import JsonHttpClient

API = "/api/v1"

# DM terror codes (dm/_utils/terror_gen/errors_release.txt) with a code of their own here.
DM_ERROR_CODES = {
    46018: "DM_TASK_NOT_FOUND",       # ErrSchedulerTaskNotExist
    46014: "DM_TASK_EXISTS",          # ErrSchedulerSubTaskExist
    26005: "DM_TASK_CHECK_FAILED",    # ErrTaskCheckSyncConfigError (precheck)
    46035: "DM_TASK_NOT_UPDATABLE",   # ErrSchedulerSubTaskCfgUpdate
    40081: "DM_TASK_NOT_UPDATABLE",   # ErrWorkerUpdateSubTaskConfig
    36058: "DM_TASK_NOT_UPDATABLE",   # ErrSyncerUnitUpdateConfigInSharding
    38058: "DM_TASK_START_FAILED",    # ErrMasterStartTask (e.g. source not enabled)
    20022: "DM_TASK_START_FAILED",    # ErrConfigMetadataNotSet (incremental without meta/start_time)
    46008: "DM_SOURCE_NOT_FOUND",     # ErrSchedulerSourceCfgNotExist
    20031: "DM_SOURCE_NOT_FOUND",     # ErrConfigSourceIDNotFound
    46007: "DM_SOURCE_EXISTS",        # ErrSchedulerSourceCfgExist
    46010: "DM_SOURCE_IN_USE",        # ErrSchedulerSourceOpTaskExist
    46025: "DM_SOURCE_IN_USE",        # ErrSchedulerSourceCfgUpdate
    46004: "DM_WORKER_NOT_FOUND",     # ErrSchedulerWorkerNotExist
    40070: "DM_WORKER_NOT_FOUND",     # ErrWorkerNoStart (no worker bound to the source)
}
LATCH_IN_USE = 46024  # ErrSchedulerLatchInUse: retryable

# Subtask stages (dm/proto/dmworker.proto Stage). A stop reads Paused; an error pause has error_msg.
ACTIVE_STAGES = ("New", "Running", "Resuming")
TRANSIENT_STAGES = ("Pausing", "Stopping")
STOPPED_STAGES = ("Paused", "Stopped", "InvalidStage")
FINISHED_STAGE = "Finished"


def _query(**params):
    """A query string of the params that are set; lists become comma-separated (DM's style)."""
    pairs = []
    for key in sorted(params):
        value = params[key]
        if value is None or value == []:
            continue
        if isinstance(value, bool):
            value = "true" if value else "false"
        elif isinstance(value, (list, tuple)):
            value = ",".join(value)
        pairs.append((key, value))
    return "?" + urlencode(pairs) if pairs else ""


def _name(value):
    return quote(value, safe="")


class DmClient(object):
    """One DM cluster's OpenAPI. Every method raises TidbOpsError on failure."""

    def __init__(self, urls, timeout=30):
        self.http = JsonHttpClient(urls, timeout=timeout, unreachable_code="DM_API_UNREACHABLE",
                                   service="DM-master")
        self.calls = []  # "METHOD path" of every write, for the result

    @classmethod
    def from_params(cls, params):
        urls = [u for u in params.get("dm_master_url") or [] if u and u.strip()]
        if not urls:
            raise TidbOpsError("INVALID_ARGUMENT", "dm_master_url needs at least one DM-master address")
        return cls(urls, timeout=params.get("dm_timeout") or 30)

    # -- transport -------------------------------------------------------------------

    def call(self, method, path, body=None, fallback="DM_API_ERROR", absent=None):
        """Send one request; returns the decoded JSON (None for an empty body).

        fallback: the code for a DM error without a code of its own.
        absent: a predicate on (status, dm_error_code) meaning "the object is missing":
            the call then returns the sentinel MISSING instead of raising."""
        if method != "GET":
            self.calls.append("%s %s%s" % (method, API, path))
        resp = self.http.request(method, API + path, body)
        if resp.status < 300:
            return self._decode(method, path, resp)
        dm_code, dm_msg = _dm_error(resp)
        if absent is not None and absent(resp.status, dm_code):
            return MISSING
        code = DM_ERROR_CODES.get(dm_code, fallback)
        if resp.status == 404 and dm_code is None:
            dm_msg = "no such API (is the DM-master OpenAPI enabled, openapi = true?)"
        raise TidbOpsError(code, "DM-master %s %s%s failed: %s" % (method, API, path, dm_msg),
                           dm_error_code=dm_code, status=resp.status)

    @staticmethod
    def _decode(method, path, resp):
        try:
            return resp.json()
        except ValueError:
            raise TidbOpsError("DM_API_ERROR", "DM-master %s %s%s did not answer JSON: %s"
                               % (method, API, path, resp.body[:200]))

    # -- tasks -------------------------------------------------------------------------

    def get_task(self, name, with_status=True):
        """The task (OpenAPI Task, with status_list), or None when it does not exist."""
        task = self.call("GET", "/tasks/%s%s" % (_name(name), _query(with_status=with_status)),
                         absent=lambda status, code: code == 46018 or (status == 404 and code is None))
        return None if task is MISSING else task

    def list_tasks(self, with_status=True):
        return (self.call("GET", "/tasks" + _query(with_status=with_status)) or {}).get("data") or []

    def task_status(self, name, sources=None):
        path = "/tasks/%s/status%s" % (_name(name), _query(source_name_list=sources))
        return (self.call("GET", path) or {}).get("data") or []

    def create_task(self, task):
        return self.call("POST", "/tasks", {"task": task}, fallback="DM_TASK_INVALID") or {}

    def update_task(self, task):
        return self.call("PUT", "/tasks/%s" % _name(task["name"]), {"task": task}, fallback="DM_TASK_INVALID") or {}

    def delete_task(self, name, force=False, keep_meta=False):
        # keep_meta is recent (tiflow#12757); older masters ignore the unknown parameter.
        self.call("DELETE", "/tasks/%s%s" % (_name(name), _query(force=force or None, keep_meta=keep_meta or None)))

    def start_task(self, name, sources=None, start_time=None, safe_mode_time_duration=None, remove_meta=False):
        body = _body(source_name_list=sources, start_time=start_time,
                     safe_mode_time_duration=safe_mode_time_duration, remove_meta=remove_meta or None)
        self.call("POST", "/tasks/%s/start" % _name(name), body, fallback="DM_TASK_START_FAILED")

    def stop_task(self, name, sources=None, timeout_duration=None):
        body = _body(source_name_list=sources, timeout_duration=timeout_duration)
        self.call("POST", "/tasks/%s/stop" % _name(name), body)

    # -- sources -----------------------------------------------------------------------

    def get_source(self, name, with_status=True):
        """The source (password reads ``******``), or None on DM's bare 404."""
        source = self.call("GET", "/sources/%s%s" % (_name(name), _query(with_status=with_status)),
                           absent=lambda status, code: status == 404 or code in (46008, 20031))
        return None if source is MISSING else source

    def list_sources(self, with_status=False):
        return (self.call("GET", "/sources" + _query(with_status=with_status)) or {}).get("data") or []

    def source_status(self, name):
        return (self.call("GET", "/sources/%s/status" % _name(name)) or {}).get("data") or []

    def create_source(self, source, worker=None):
        return self.call("POST", "/sources", _body(source=source, worker_name=worker), fallback="DM_SOURCE_INVALID")

    def update_source(self, source):
        return self.call("PUT", "/sources/%s" % _name(source["source_name"]), {"source": source},
                         fallback="DM_SOURCE_INVALID")

    def delete_source(self, name, force=False):
        self.call("DELETE", "/sources/%s%s" % (_name(name), _query(force=force or None)))

    def enable_source(self, name, enable=True):
        self.call("POST", "/sources/%s/%s" % (_name(name), "enable" if enable else "disable"))

    def transfer_source(self, name, worker):
        self.call("POST", "/sources/%s/transfer" % _name(name), {"worker_name": worker})

    def enable_relay(self, name, workers=None, binlog_name=None, binlog_gtid=None, relay_dir=None):
        body = _body(worker_name_list=workers, relay_binlog_name=binlog_name, relay_binlog_gtid=binlog_gtid,
                     relay_dir=relay_dir)
        self.call("POST", "/sources/%s/relay/enable" % _name(name), body)

    def disable_relay(self, name, workers=None):
        self.call("POST", "/sources/%s/relay/disable" % _name(name), _body(worker_name_list=workers))

    def purge_relay(self, name, binlog_name, relay_dir=None):
        self.call("POST", "/sources/%s/relay/purge" % _name(name),
                  _body(relay_binlog_name=binlog_name, relay_dir=relay_dir))

    # -- cluster -----------------------------------------------------------------------

    def masters(self):
        return (self.call("GET", "/cluster/masters") or {}).get("data") or []

    def workers(self):
        return (self.call("GET", "/cluster/workers") or {}).get("data") or []

    def offline_member(self, role, name):
        self.call("DELETE", "/cluster/%ss/%s" % (role, _name(name)))


class _Missing(object):
    pass


MISSING = _Missing()


def _body(**fields):
    """A request body of the fields that are set, or None when none is."""
    body = dict((k, v) for k, v in fields.items() if v is not None and v != [])
    return body or None


def _dm_error(resp):
    """(error_code, error_msg) of a DM error answer; (None, body text) when it is not DM's shape."""
    try:
        doc = json.loads(resp.body) if resp.body else None
    except ValueError:
        doc = None
    if isinstance(doc, dict) and "error_msg" in doc:
        code = doc.get("error_code")
        return (code if code else None), doc["error_msg"]
    return None, (resp.body or "HTTP %d" % resp.status)[:500]


# -- subtask status ---------------------------------------------------------------------

def status_by_source(status_list):
    """{source_name: SubTaskStatus} of a status list."""
    return dict((s.get("source_name"), s) for s in status_list or [])


def is_active(status):
    return status.get("stage") in ACTIVE_STAGES


def is_error_paused(status):
    """Paused by an error: DM still expects it Running (a user stop also reads Paused, without error_msg)."""
    return status.get("stage") == "Paused" and bool(status.get("error_msg"))


def is_settled_stopped(status):
    """Stopped for good: Paused/Stopped (a stop reads Paused) or Finished; not Pausing/Stopping."""
    return status.get("stage") in STOPPED_STAGES + (FINISHED_STAGE,)


def task_stage(status_list):
    """One stage for the task: Running if any subtask runs, Finished if all finished,
    Error if a subtask paused with an error, else Stopped (DM reads a stop as Paused)."""
    stages = [s.get("stage") for s in status_list or []]
    if not stages:
        return "Stopped"
    if any(s.get("error_msg") and s.get("stage") not in ACTIVE_STAGES for s in status_list):
        return "Error"
    if any(stage in ACTIVE_STAGES for stage in stages):
        return "Running"
    if any(stage in TRANSIENT_STAGES for stage in stages):
        return "Stopping"
    if all(stage == FINISHED_STAGE for stage in stages):
        return "Finished"
    return "Stopped"


def summarize_status(status_list):
    """The per-source status a module returns: the fields an operator looks at."""
    keys = ("source_name", "worker_name", "stage", "unit", "error_msg", "unresolved_ddl_lock_id")
    summary = []
    for status in sorted(status_list or [], key=lambda s: s.get("source_name") or ""):
        item = dict((k, status.get(k)) for k in keys if status.get(k) not in (None, ""))
        for extra in ("sync_status", "load_status", "dump_status"):
            if status.get(extra):
                item[extra] = status[extra]
        summary.append(item)
    return summary
