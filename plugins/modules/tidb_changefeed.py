#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, tidbops.manager contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
---
module: tidb_changefeed
short_description: Keep a TiCDC changefeed (replication into a MySQL or TiDB sink) as declared
version_added: "0.2.0"
description:
  - Creates, pauses, resumes, updates or removes one TiCDC changefeed through the TiCDC servers' OpenAPI
    (v2 from TiCDC v6.6.0, v1 before), doing only what differs.
  - The sink is given as parts - O(sink.host), O(sink.port), O(sink.user), O(sink.password) and
    O(sink.options) - so that the password never sits in a URI that gets logged; TiCDC shows it back as
    C(xxxxx), and so does this module.
  - Every sink option is checked before anything is sent - C(worker-count) and C(max-txn-row) must be positive
    (TiCDC refuses 0 from v6.0.0 on; TiUniManager's clone sent 0) - and so is every credential-looking option.
  - A changefeed whose sink, filter or O(target_ts) differs is updated the way TiCDC allows it - paused,
    updated, resumed - and one whose O(start_ts) differs, which TiCDC cannot update, is refused with
    C(CDC_CHANGEFEED_NOT_UPDATABLE).
  - With O(wait=synced), the task returns once the changefeed's checkpoint has passed the upstream's current
    TSO taken when the task started (C(SELECT TIDB_CURRENT_TSO()) through the login options, TiCDC's own
    recipe), so every change committed before the task is in the sink.
options:
  changefeed_id:
    description:
      - The changefeed's id (letters, digits and single dashes, at most 128 characters).
    type: str
    required: true
    aliases: [id]
  namespace:
    description:
      - The changefeed's namespace.
    type: str
    default: default
  state:
    description:
      - V(present) keeps the changefeed replicating (created, or resumed when paused or failed).
      - V(paused) keeps it created and paused (it is created first when missing).
      - V(absent) removes it.
    type: str
    choices: [present, paused, absent]
    default: present
  start_ts:
    description:
      - The TSO after which the upstream's changes are replicated, for example a backup's C(BackupTS) that the
        sink was restored from. V(0) (the default) is now.
      - Only taken at creation; a changefeed that exists with another start TSO is refused.
      - A start TSO at or before the upstream's GC safe point fails with C(CDC_START_TS_BEFORE_GC).
    type: int
    default: 0
  target_ts:
    description:
      - The TSO at which the changefeed stops (state finished); V(0) replicates without end.
    type: int
    default: 0
  sink:
    description:
      - The MySQL or TiDB server the changes go to. Required unless O(state=absent).
    type: dict
    suboptions:
      scheme:
        description: The sink type.
        type: str
        choices: [mysql, tidb, mysql+ssl, tidb+ssl]
        default: mysql
      host:
        description: Host of the sink.
        type: str
        required: true
      port:
        description: Its port.
        type: int
        default: 4000
      user:
        description: The account TiCDC writes with.
        type: str
        default: root
      password:
        description:
          - The password of O(sink.user). Only sent to TiCDC inside the sink URI; never logged, never returned.
        type: str
        default: ''
      options:
        description:
          - Sink URI parameters such as C(worker-count), C(max-txn-row), C(safe-mode), C(time-zone).
          - C(worker-count) (at most 1024) and C(max-txn-row) (at most 2048) must be positive; an option whose
            name looks like a credential is refused.
        type: dict
        default: {}
  update_password:
    description:
      - TiCDC never shows a sink's password, so a changed password cannot be seen. V(on_create) sets it when the
        changefeed is created; V(always) sends the sink again on every run, which pauses, updates and resumes
        the changefeed each time (never idempotent).
    type: str
    choices: [on_create, always]
    default: on_create
  filter_rules:
    description:
      - Table filter rules of what is replicated (TiDB's table filter syntax, C(!) excludes). System schemas
        are never replicated.
    type: list
    elements: str
    default: ['*.*']
  ignore_ineligible_table:
    description:
      - Create the changefeed even when tables the filter takes have no primary or not-null unique key
        (TiCDC skips them); without it such tables fail the task with C(CDC_TABLE_INELIGIBLE).
    type: bool
    default: false
  wait:
    description:
      - V(none) returns once the changefeed is in the declared state.
      - V(synced) (with O(state=present)) also waits until its checkpoint has passed the upstream's TSO of the
        moment the task started, read through the login options (a TiDB server of the upstream cluster).
    type: str
    choices: [none, synced]
    default: none
  wait_timeout:
    description:
      - Seconds O(wait=synced) waits before it fails with C(CDC_SYNC_TIMEOUT) and the lag.
    type: int
    default: 600
extends_documentation_fragment:
  - tidbops.manager.cdc
  - tidbops.manager.login
  - ansible.builtin.action_common_attributes
  - tidbops.manager.attributes
attributes:
  check_mode:
    support: full
    details: Reads the changefeed and reports what would be done; changes nothing.
  diff_mode:
    support: none
notes:
  - Needs TiCDC v5.2.2 or later (the OpenAPI); v6.0.0 or later validates the sink options as this module does.
  - Rows restored by BR (C(RESTORE)) or imported by C(IMPORT INTO) or Lightning's physical mode never reach
    TiCDC; start the changefeed from the backup's C(BackupTS) instead.
  - The login options are used only by O(wait=synced).
seealso:
  - module: tidbops.manager.tidb_changefeed_info
  - module: tidbops.manager.tidb_backup
  - name: TiCDC OpenAPI v2
    description: The API this module drives.
    link: https://docs.pingcap.com/tidb/stable/ticdc-open-api-v2
author:
  - tidbops.manager contributors (@tidbops)
'''

EXAMPLES = r'''
- name: Replicate the source cluster into the clone from the backup it was restored from
  tidbops.manager.tidb_changefeed:
    cdc_url: ["http://10.0.1.8:8300"]
    changefeed_id: shop-to-clone
    start_ts: "{{ backup.backup_ts }}"
    sink:
      host: 10.0.2.5
      user: cdc_writer
      password: "{{ cdc_writer_password }}"
      options:
        worker-count: 16
    filter_rules: ["shop.*"]
    wait: synced
    login_host: 10.0.1.5          # the upstream's TiDB, for its current TSO
    login_password: "{{ tidb_root_password }}"

- name: Hold the changes back during a maintenance
  tidbops.manager.tidb_changefeed:
    cdc_url: ["http://10.0.1.8:8300"]
    changefeed_id: shop-to-clone
    state: paused
    sink:
      host: 10.0.2.5
      user: cdc_writer

- name: Remove it
  tidbops.manager.tidb_changefeed:
    cdc_url: ["http://10.0.1.8:8300"]
    changefeed_id: shop-to-clone
    state: absent
'''

RETURN = r'''
changefeed:
  description: The changefeed after the task (empty after removal; in check mode, what it would be).
  returned: success
  type: dict
  contains:
    id:
      description: Its id.
      type: str
    namespace:
      description: Its namespace.
      type: str
    state:
      description: TiCDC's state (normal, stopped, warning, failed, finished, pending).
      type: str
    sink_uri:
      description: The sink URI as TiCDC shows it, the password as C(xxxxx).
      type: str
    start_ts:
      description: The TSO it replicates after.
      type: int
    checkpoint_ts:
      description: Every change committed at or before this TSO is in the sink.
      type: int
    checkpoint_time:
      description: The checkpoint as a local time.
      type: str
    filter_rules:
      description: Its table filter (v2 servers).
      type: list
      elements: str
    error:
      description: The error TiCDC reports while the changefeed is in state warning or failed.
      type: dict
  sample: {"id": "shop-to-clone", "namespace": "default", "state": "normal", "start_ts": 450123456789012480,
           "checkpoint_ts": 450123499999012480, "sink_uri": "mysql://cdc_writer:xxxxx@10.0.2.5:4000/?worker-count=16"}
api:
  description: The OpenAPI version used (C(v2) from TiCDC v6.6.0, C(v1) before).
  returned: success
  type: str
  sample: v2
synced_ts:
  description: With O(wait=synced), the upstream TSO the checkpoint had to pass.
  returned: success and wait is synced
  type: int
lag_seconds:
  description: With O(wait=synced), how far the checkpoint was behind that TSO when the wait ended.
  returned: when wait is synced
  type: float
actions:
  description: What the task did (or would do in check mode) - C(create), C(pause), C(update sink), C(resume), C(remove).
  returned: success
  type: list
  elements: str
  sample: ["create"]
error_code:
  description: A stable code for the failure (see docs/error-codes.md); TiCDC's own code is in C(cdc_error_code).
  returned: failure
  type: str
  sample: CDC_START_TS_BEFORE_GC
'''

import re

from ansible_collections.tidbops.manager.plugins.module_utils.cdc import sink as sinks
from ansible_collections.tidbops.manager.plugins.module_utils.cdc.api import CdcClient
from ansible_collections.tidbops.manager.plugins.module_utils.errors import TidbOpsError
from ansible_collections.tidbops.manager.plugins.module_utils.module import TidbOpsModule
from ansible_collections.tidbops.manager.plugins.module_utils.polling import poll_until
from ansible_collections.tidbops.manager.plugins.module_utils.specs import INT64, PORT, SECONDS
from ansible_collections.tidbops.manager.plugins.module_utils.tools.sql import run_sql, tidb_connect

LOGICAL_BITS = 18
ID_PATTERN = re.compile(r"^[a-zA-Z0-9]+(-[a-zA-Z0-9]+)*$")  # model.ValidateChangefeedID
ID_MAX = 128


def summary(feed):
    if not feed:
        return {}
    keys = ("id", "namespace", "state", "sink_uri", "start_ts", "target_ts", "checkpoint_ts", "checkpoint_time")
    out = dict((k, feed.get(k)) for k in keys if feed.get(k) is not None)
    rules = ((feed.get("config") or {}).get("filter") or {}).get("rules")
    if rules is not None:
        out["filter_rules"] = rules
    if feed.get("error"):
        out["error"] = feed["error"]
    return out


def changes_needed(params, feed, sink, options):
    """The parts of an existing changefeed to update: sink, target_ts, filter."""
    wanted = {}
    if params["update_password"] == "always" or sinks.differences(sink, options, feed.get("sink_uri")):
        wanted["sink"] = True
    if params["target_ts"] and params["target_ts"] != (feed.get("target_ts") or 0):
        wanted["target_ts"] = True
    rules = ((feed.get("config") or {}).get("filter") or {}).get("rules")
    if rules is not None and list(rules) != list(params["filter_rules"]):
        wanted["filter"] = True
    return wanted


def upstream_tso(params):
    """The upstream's current TSO, as TiCDC's FAQ has it (TIDB_CURRENT_TSO(), not NOW())."""
    connection = tidb_connect(params)
    try:
        rows = run_sql(connection, "SELECT TIDB_CURRENT_TSO() AS tso")[0]
    finally:
        connection.close()
    try:
        return int(rows[0]["tso"])
    except (IndexError, KeyError, TypeError, ValueError):
        raise TidbOpsError("TIDB_OUTPUT_INVALID", "SELECT TIDB_CURRENT_TSO() answered %r" % (rows,))


def wait_synced(module, client, feed_id, target):
    """Poll the changefeed until its checkpoint passes target (an upstream TSO)."""
    failed = {}

    def probe():
        feed = client.get(feed_id)
        if feed is None:
            raise TidbOpsError("CDC_CHANGEFEED_FAILED", "changefeed %s disappeared while it was waited for" % feed_id)
        if feed.get("state") == "failed":
            failed["feed"] = feed
            return feed
        return feed if int(feed.get("checkpoint_ts") or 0) >= target else None
    done, feed = poll_until(probe, module.params["wait_timeout"])
    last = feed or client.get(feed_id) or {}
    lag = max(0.0, ((target >> LOGICAL_BITS) - (int(last.get("checkpoint_ts") or 0) >> LOGICAL_BITS)) / 1000.0)
    if failed:
        raise TidbOpsError("CDC_CHANGEFEED_FAILED", "changefeed %s failed while it was waited for: %s"
                           % (feed_id, (last.get("error") or {}).get("message", "")), changefeed=summary(last))
    if not done:
        raise TidbOpsError("CDC_SYNC_TIMEOUT", "changefeed %s is %.1f s behind the upstream's TSO %d after %d s (state "
                           "%s%s)" % (feed_id, lag, target, module.params["wait_timeout"], last.get("state"),
                                      ", error: %s" % last["error"].get("message") if last.get("error") else ""),
                           lag_seconds=lag, changefeed=summary(last))
    return last, lag


def run(module):
    params = module.params
    feed_id, state = params["changefeed_id"], params["state"]
    if not ID_PATTERN.match(feed_id) or len(feed_id) > ID_MAX:
        raise TidbOpsError("CDC_CHANGEFEED_INVALID", "changefeed_id %r must be letters and digits joined by single "
                           "dashes, at most %d characters (TiCDC's pattern)" % (feed_id, ID_MAX))
    sink = options = None
    if state != "absent":
        if not params["sink"]:
            raise TidbOpsError("INVALID_ARGUMENT", "sink is required unless state is absent")
        sink = params["sink"]
        options = sinks.check_options(sink["options"])
    if params["wait"] == "synced" and state != "present":
        raise TidbOpsError("INVALID_ARGUMENT", "wait: synced needs state: present")
    if params["target_ts"] and params["start_ts"] and params["target_ts"] <= params["start_ts"]:
        raise TidbOpsError("CDC_CHANGEFEED_INVALID", "target_ts %d is not after start_ts %d"
                           % (params["target_ts"], params["start_ts"]))
    client = CdcClient.from_params(params, namespace=params["namespace"])
    synced_ts = upstream_tso(params) if params["wait"] == "synced" else None
    feed = client.get(feed_id)
    if state == "absent":
        if feed is not None and module.act("remove"):
            client.delete(feed_id)
        return module.result(changefeed={}, api=client.api)
    if feed is None:
        if module.act("create"):
            client.create(feed_id, sinks.uri(sink, options), start_ts=params["start_ts"], target_ts=params["target_ts"],
                          rules=params["filter_rules"], ignore_ineligible_table=params["ignore_ineligible_table"])
            feed = client.get(feed_id)
        else:
            feed = dict(id=feed_id, namespace=params["namespace"], state="normal", start_ts=params["start_ts"],
                        sink_uri=sinks.masked(sink, options), config=dict(filter=dict(rules=params["filter_rules"])))
    else:
        if params["start_ts"] and int(feed.get("start_ts") or 0) != params["start_ts"]:
            raise TidbOpsError("CDC_CHANGEFEED_NOT_UPDATABLE", "changefeed %s replicates after TSO %s, not %d, and "
                               "TiCDC cannot change that: remove it (state: absent) and create it again"
                               % (feed_id, feed.get("start_ts"), params["start_ts"]), changefeed=summary(feed))
        wanted = changes_needed(params, feed, sink, options)
        if wanted:
            running = feed.get("state") not in ("stopped", "failed")
            if running and module.act("pause"):
                client.pause(feed_id)
            if module.act("update " + " ".join(sorted(wanted))):
                client.update(feed_id, sink_uri=sinks.uri(sink, options) if "sink" in wanted else None,
                              target_ts=params["target_ts"] if "target_ts" in wanted else None,
                              rules=params["filter_rules"] if "filter" in wanted else None)
            if running and state == "present" and module.act("resume"):
                client.resume(feed_id)
            feed = client.get(feed_id) if not module.check_mode else dict(
                feed, sink_uri=sinks.masked(sink, options), state="stopped" if state == "paused" else feed.get("state"))
    current = feed.get("state")
    if state == "paused" and current not in ("stopped", "finished") and module.act("pause"):
        client.pause(feed_id)
        feed = client.get(feed_id)
    elif state == "present" and current in ("stopped", "failed") and module.act("resume"):
        client.resume(feed_id)
        feed = client.get(feed_id)
    result = {}
    if synced_ts is not None and not module.check_mode:
        feed, lag = wait_synced(module, client, feed_id, synced_ts)
        result.update(synced_ts=synced_ts, lag_seconds=lag)
    return module.result(changefeed=summary(feed), api=client.api, **result)


def main():
    sink = dict(
        scheme=dict(type="str", default="mysql", choices=list(sinks.SCHEMES)),
        host=dict(type="str", required=True),
        port=dict(type="int", default=4000),
        user=dict(type="str", default="root"),
        password=dict(type="str", default="", no_log=True),
        options=dict(type="dict", default={}),
    )
    module = TidbOpsModule(
        dict(
            changefeed_id=dict(type="str", required=True, aliases=["id"]),
            namespace=dict(type="str", default="default"),
            state=dict(type="str", default="present", choices=["present", "paused", "absent"]),
            start_ts=dict(type="int", default=0),
            target_ts=dict(type="int", default=0),
            sink=dict(type="dict", options=sink),
            update_password=dict(type="str", default="on_create", choices=["on_create", "always"], no_log=False),
            filter_rules=dict(type="list", elements="str", default=["*.*"]),
            ignore_ineligible_table=dict(type="bool", default=False),
            wait=dict(type="str", default="none", choices=["none", "synced"]),
            wait_timeout=dict(type="int", default=600),
        ),
        ranges={"start_ts": (0, INT64), "target_ts": (0, INT64), "sink.port": PORT, "wait_timeout": SECONDS},
        blocks=("cdc", "login"), supports_check_mode=True)
    module.run(run, module)


if __name__ == "__main__":
    main()
