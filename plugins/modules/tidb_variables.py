#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, tidbops.manager contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
---
module: tidb_variables
short_description: Keep a TiDB cluster's global system variables as declared
version_added: "0.2.0"
description:
  - Sets the global system variables given in O(variables) with C(SET GLOBAL), only those whose value
    differs; TiDB persists a global value for the whole cluster.
  - Every variable is checked against C(INFORMATION_SCHEMA.VARIABLES_INFO) before anything is set, so a
    variable that does not exist, is read-only, is scoped to one TiDB server (C(INSTANCE)) or to a session,
    a number out of the variable's range, or a value that is not one of its possible values fails the task
    with an error code and sets nothing.
  - Values are compared as TiDB reads them - V(ON), V(1) and V(true) are one boolean, V(24h) is
    V(24h0m0s), enum values ignore case - so a second run with the same values changes nothing.
  - With O(copy_from), the variables another cluster has set away from their defaults are declared too
    (what a clone needs, since BR never restores C(mysql.global_variables)).
options:
  variables:
    description:
      - The global system variables and their values, as a mapping of name to value.
      - A boolean value is V(ON)/V(OFF); a null value sets the variable back to its default (C(SET GLOBAL x = DEFAULT)).
      - Given with O(copy_from), these win over the source's values.
    type: dict
    default: {}
  copy_from:
    description:
      - The login of a TiDB server of a source cluster whose customised variables are copied to this one.
      - Copied are the variables with a global scope, not a noop, whose global value differs from their
        default on the source. One the target does not have (another version) or cannot take
        (read-only or instance-scoped there) is skipped with a warning, not refused.
    type: dict
    suboptions:
      login_host:
        description: Host of the source's TiDB server.
        type: str
        required: true
      login_port:
        description: Its port.
        type: int
        default: 4000
      login_user:
        description: The user to log in as.
        type: str
        default: root
      login_password:
        description: The password of O(copy_from.login_user). Never logged, never returned.
        type: str
        default: ''
      connect_timeout:
        description: Seconds to wait for the connection.
        type: int
        default: 10
extends_documentation_fragment:
  - tidbops.manager.login
  - ansible.builtin.action_common_attributes
  - tidbops.manager.attributes
attributes:
  check_mode:
    support: full
    details: Reads the variables and reports what would be set; sets nothing.
  diff_mode:
    support: full
    details: Shows the variables that change, before and after.
notes:
  - Needs TiDB v6.0 or later (C(INFORMATION_SCHEMA.VARIABLES_INFO)) and the C(SUPER) or C(SYSTEM_VARIABLES_ADMIN)
    privilege.
  - A variable TiDB marks as a noop (C(IS_NOOP)) is set, with a warning that it has no effect.
  - C(INSTANCE)-scoped variables (for example C(tidb_enable_slow_log), C(max_connections)) belong to each TiDB
    server's configuration; set them in the topology (C(server_configs.tidb)) rather than here.
seealso:
  - module: tidbops.manager.tidb_query
  - module: tidbops.manager.tidb_gc
  - name: TiDB system variables
    description: Every variable, its scope, default and range.
    link: https://docs.pingcap.com/tidb/stable/system-variables
author:
  - tidbops.manager contributors (@tidbops)
'''

EXAMPLES = r'''
- name: Keep the cluster's query memory quota and transaction mode
  tidbops.manager.tidb_variables:
    login_host: 10.0.1.5
    login_password: "{{ tidb_root_password }}"
    variables:
      tidb_mem_quota_query: 2147483648
      tidb_txn_mode: pessimistic
      tidb_enable_noop_functions: "OFF"

- name: A new cluster takes the variables its source customised, and one of its own
  tidbops.manager.tidb_variables:
    login_host: 10.0.2.5
    copy_from:
      login_host: 10.0.1.5
      login_password: "{{ source_root_password }}"
    variables:
      tidb_ddl_reorg_worker_cnt: 8

- name: Put a variable back to its default
  tidbops.manager.tidb_variables:
    login_host: 10.0.1.5
    variables:
      tidb_ddl_reorg_worker_cnt: null
'''

RETURN = r'''
variables:
  description: The global value of each variable given, after the task (in check mode, what it would be).
  returned: success
  type: dict
  sample: {"tidb_mem_quota_query": "2147483648", "tidb_txn_mode": "pessimistic"}
copied:
  description: The variables taken from O(copy_from), with the source's values (empty without it).
  returned: success
  type: dict
  sample: {"tidb_txn_mode": "optimistic"}
skipped:
  description: Variables of O(copy_from) the target cannot take, each with why.
  returned: success
  type: dict
  sample: {"tidb_enable_slow_log": "tidb_enable_slow_log is INSTANCE-scoped"}
changed_variables:
  description: The variables that were (in check mode, would be) set, each with its value before and after.
  returned: success
  type: dict
  sample: {"tidb_mem_quota_query": {"before": "1073741824", "after": "2147483648"}}
actions:
  description: What the task did (or would do in check mode), one C(set <variable>) per variable set.
  returned: success
  type: list
  elements: str
  sample: ["set tidb_mem_quota_query"]
error_code:
  description: A stable code for the failure (see docs/error-codes.md).
  returned: failure
  type: str
  sample: VARIABLE_VALUE_INVALID
'''

from ansible_collections.tidbops.manager.plugins.module_utils.module import TidbOpsModule
from ansible_collections.tidbops.manager.plugins.module_utils.specs import PORT, SECONDS, source_login_options

from ansible_collections.tidbops.manager.plugins.module_utils.errors import TidbOpsError
from ansible_collections.tidbops.manager.plugins.module_utils.tools import sysvars
from ansible_collections.tidbops.manager.plugins.module_utils.tools.sql import source_connect, tidb_connect


def wanted_values(variables):
    """{lower-case name: the wanted value as text, or None for DEFAULT}."""
    wanted = dict((name.strip().lower(), sysvars.as_text(value)) for name, value in variables.items())
    sysvars.check_names(wanted)
    return wanted


def source_values(params):
    """The customised variables of the copy_from cluster."""
    connection = source_connect(params["copy_from"])
    try:
        return sysvars.customised(connection)
    finally:
        connection.close()


def run(module):
    wanted = wanted_values(module.params["variables"] or {})
    copied = source_values(module.params) if module.params["copy_from"] else {}
    copied = dict((name, value) for name, value in copied.items() if name not in wanted)
    wanted.update(copied)
    skipped = {}
    if not wanted:
        return module.result(variables={}, changed_variables={}, copied={}, skipped={})
    names = sorted(wanted)
    connection = tidb_connect(module.params)
    try:
        info = sysvars.describe(connection, names)
        for name in list(names):  # every refusal before anything is set
            try:
                sysvars.check(name, info.get(name), wanted[name])
            except TidbOpsError as error:
                if name not in copied:
                    raise
                skipped[name] = error.msg  # the target's version differs from the source's
                module.warn("not copied: %s" % error.msg)
                names.remove(name)
                copied.pop(name)
        if not names:
            return module.result(variables={}, changed_variables={}, copied=copied, skipped=skipped)
        before = sysvars.global_values(connection, names)
        changes = {}
        for name in names:
            target = info[name]["DEFAULT_VALUE"] if wanted[name] is None else wanted[name]
            if sysvars.same(before.get(name), target):
                continue
            changes[name] = dict(before=before.get(name), after=target)
            if info[name].get("IS_NOOP") == "YES":
                module.warn("%s is a noop variable in TiDB: setting it has no effect" % name)
            if module.act("set " + name):
                sysvars.set_global(connection, name, wanted[name])
        after = sysvars.global_values(connection, names) if changes and not module.check_mode else \
            dict(before, **dict((name, change["after"]) for name, change in changes.items()))
    finally:
        connection.close()
    for name, change in changes.items():
        change["after"] = after.get(name, change["after"])
    result = module.result(variables=dict((name, after.get(name)) for name in names), changed_variables=changes,
                           copied=copied, skipped=skipped)
    if module._diff:
        result["diff"] = dict(before="".join("%s: %s\n" % (n, c["before"]) for n, c in sorted(changes.items())),
                              after="".join("%s: %s\n" % (n, c["after"]) for n, c in sorted(changes.items())))
    return result


def main():
    module = TidbOpsModule(
        dict(
            variables=dict(type="dict", default={}),
            copy_from=dict(type="dict", options=source_login_options()),
        ),
        required_one_of=[["variables", "copy_from"]],
        ranges={"copy_from.login_port": PORT, "copy_from.connect_timeout": SECONDS},
        blocks=("login",), supports_check_mode=True)
    module.run(run, module)


if __name__ == "__main__":
    main()
