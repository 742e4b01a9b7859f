#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, tidbops.manager contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
---
module: tidb_user
short_description: Keep TiDB accounts and their privileges as declared, or copy them from another cluster
version_added: "0.2.0"
description:
  - Creates, changes or drops one TiDB account (O(name)@O(host)) - its password, authentication plugin, lock
    and privileges, static ones (C(SELECT), C(PROCESS), ...) and dynamic ones (C(BACKUP_ADMIN),
    C(RESTORE_ADMIN), C(SYSTEM_VARIABLES_ADMIN), ...) - doing only what differs.
  - The account is read with C(SHOW CREATE USER) and C(SHOW GRANTS FOR); every privilege name and level is
    checked before anything is written, so an unknown privilege or a dynamic privilege on another level than
    C(*.*) fails the task with an error code and changes nothing.
  - With O(copy_from), the accounts of another cluster whose names match O(copy_from.users) are made the same on
    this one, password hashes included (C(IDENTIFIED WITH 'plugin' AS 'hash'), as C(SHOW CREATE USER) gives
    them), so no password is ever read or sent in clear. C(root) is never copied.
  - The password and the hashes are never returned and never logged.
options:
  name:
    description:
      - The user name of the account (at most 32 characters).
    type: str
  host:
    description:
      - The host part of the account.
    type: str
    default: '%'
  state:
    description:
      - V(present) creates or updates the account; V(absent) drops it (C(DROP USER IF EXISTS)).
    type: str
    choices: [present, absent]
    default: present
  password:
    description:
      - The account's password. Never logged, never returned.
      - With O(update_password=always) and C(mysql_native_password), compared with the stored hash, so a second
        run with the same password changes nothing.
    type: str
  password_hash:
    description:
      - The stored form of the password for O(plugin), as C(SHOW CREATE USER) prints it after C(AS) (for
        C(mysql_native_password), C(*) and 40 hex digits). Never logged, never returned.
    type: str
  plugin:
    description:
      - The authentication plugin. When omitted, a new account uses C(mysql_native_password) and an existing
        one keeps its own unless O(password) or O(password_hash) is set.
    type: str
    choices: [mysql_native_password, caching_sha2_password, tidb_sm3_password, auth_socket, tidb_auth_token,
              authentication_ldap_sasl, authentication_ldap_simple]
  update_password:
    description:
      - V(always) sets O(password) when it differs from the stored one; V(on_create) sets it only when the
        account is created (the only choice for plugins whose salted hash cannot be compared).
    type: str
    choices: [always, on_create]
    default: always
  privileges:
    description:
      - The account's privileges, as a mapping of level (V(*.*), V(db.*), V(db.table)) to a list of privilege
        names (or one comma-separated string). V(ALL) is C(ALL PRIVILEGES); V(GRANT OPTION) is
        C(WITH GRANT OPTION) on that level.
      - Levels not listed lose their privileges, unless O(append_privileges=true). Omitted, privileges are
        left as they are.
    type: dict
  append_privileges:
    description:
      - Only add the privileges given; revoke nothing.
    type: bool
    default: false
  locked:
    description:
      - Lock (V(true)) or unlock (V(false)) the account; omitted, the lock is left as it is.
    type: bool
  copy_from:
    description:
      - The login of a TiDB server of a source cluster whose accounts are copied to this one, with their
        password hashes, plugins, locks and privileges (privileges on tables must find the tables on the target).
    type: dict
    suboptions:
      users:
        description:
          - The accounts to copy, as shell-style patterns matched against V(user) or V(user@host).
        type: list
        elements: str
        required: true
      login_host:
        description: Host of the source's TiDB server.
        type: str
        required: true
      login_port:
        description: Its port.
        type: int
        default: 4000
      login_user:
        description: The user to log in as (it needs C(SELECT) on C(mysql.*)).
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
    details: Reads the accounts and reports what would be created, changed or dropped; writes nothing.
  diff_mode:
    support: full
    details: Shows each account's plugin, lock and privileges before and after (never a password or hash).
notes:
  - The login user needs C(CREATE USER) and C(GRANT OPTION) with the privileges it grants (C(root) has them).
  - Roles are not managed yet.
  - TiDB's C(DROP USER) removes the account's dynamic privileges too; C(IF EXISTS) also clears its password history.
seealso:
  - module: tidbops.manager.tidb_variables
  - module: tidbops.manager.tidb_query
  - name: TiDB privilege management
    description: Static and dynamic privileges, and what each allows.
    link: https://docs.pingcap.com/tidb/stable/privilege-management
author:
  - tidbops.manager contributors (@tidbops)
'''

EXAMPLES = r'''
- name: An account for the backup jobs
  tidbops.manager.tidb_user:
    login_host: 10.0.1.5
    login_password: "{{ tidb_root_password }}"
    name: backup
    password: "{{ backup_password }}"
    privileges:
      "*.*": [BACKUP_ADMIN, RESTORE_ADMIN, SELECT, RELOAD]

- name: An application account on its own database
  tidbops.manager.tidb_user:
    login_host: 10.0.1.5
    name: shop
    host: 10.0.2.%
    password: "{{ shop_password }}"
    update_password: on_create
    privileges:
      shop.*: SELECT,INSERT,UPDATE,DELETE

- name: A new cluster gets the source's application accounts, passwords and all
  tidbops.manager.tidb_user:
    login_host: 10.0.3.5
    copy_from:
      login_host: 10.0.1.5
      login_password: "{{ source_root_password }}"
      users: ["shop", "report_*"]

- name: Gone
  tidbops.manager.tidb_user:
    login_host: 10.0.1.5
    name: intern
    state: absent
'''

RETURN = r'''
user:
  description: The account after the task (in check mode, as it would be); null when absent. No password or hash.
  returned: success, without O(copy_from)
  type: dict
  sample: {"name": "backup", "host": "%", "plugin": "mysql_native_password", "locked": false,
           "privileges": {"*.*": ["BACKUP_ADMIN", "RELOAD", "RESTORE_ADMIN", "SELECT"]}}
users:
  description: With O(copy_from), each account copied, as in RV(user).
  returned: success, with O(copy_from)
  type: list
  elements: dict
actions:
  description: What the task did (or would do in check mode), for example C(create 'backup'@'%'),
    C(grant BACKUP_ADMIN ON *.* to 'backup'@'%'), C(set password of 'backup'@'%').
  returned: success
  type: list
  elements: str
error_code:
  description: A stable code for the failure (see docs/error-codes.md).
  returned: failure
  type: str
  sample: PRIVILEGE_UNKNOWN
'''

import fnmatch

from ansible_collections.tidbops.manager.plugins.module_utils.errors import TidbOpsError
from ansible_collections.tidbops.manager.plugins.module_utils.module import TidbOpsModule
from ansible_collections.tidbops.manager.plugins.module_utils.specs import PORT, SECONDS, source_login_options
from ansible_collections.tidbops.manager.plugins.module_utils.tools import accounts
from ansible_collections.tidbops.manager.plugins.module_utils.tools.sql import run_sql, source_connect, tidb_connect

MAX_USER = 32  # TiDB's mysql.user.User is char(32)
MAX_HOST = 255
SKIPPED = ("root",)  # never copied: each cluster keeps its own (a clone sets it again after RESTORE)


class Wanted(object):
    """One account as declared: the options of a task, or a source account to copy."""

    def __init__(self, name, host, plugin=None, password=None, password_hash=None, update_password="always",
                 privileges=None, append=False, locked=None):
        self.name, self.host = name, host
        self.plugin, self.password, self.password_hash = plugin, password, password_hash
        self.update_password, self.privileges, self.append, self.locked = update_password, privileges, append, locked

    def check(self):
        """Every refusal before anything is written."""
        if not self.name or len(self.name) > MAX_USER:
            raise TidbOpsError("INVALID_ARGUMENT", "name must be 1 to %d characters" % MAX_USER)
        if len(self.host) > MAX_HOST:
            raise TidbOpsError("INVALID_ARGUMENT", "host must be at most %d characters" % MAX_HOST)
        comparable = (self.plugin or accounts.NATIVE) == accounts.NATIVE
        if self.password is not None and self.update_password == "always" and not comparable:
            raise TidbOpsError("ACCOUNT_PASSWORD_UNCOMPARABLE", "%s stores a salted hash that cannot be compared "
                               "with a password: use update_password: on_create, or password_hash" % self.plugin)

    @property
    def secrets(self):
        return [s for s in (self.password, self.password_hash) if s]


def identification(wanted, plugin):
    """(SQL after the account name, its parameters) that set plugin and password."""
    if wanted.password_hash is not None:
        return " IDENTIFIED WITH %s AS %s", [plugin, wanted.password_hash]
    if wanted.password is not None:
        return " IDENTIFIED WITH %s BY %s", [plugin, wanted.password]
    return " IDENTIFIED WITH %s", [plugin]


def password_differs(wanted, current):
    if wanted.password_hash is not None:
        return (wanted.plugin or current["plugin"]) != current["plugin"] or wanted.password_hash != current["hash"]
    if wanted.password is not None and wanted.update_password == "always":
        plugin = wanted.plugin or current["plugin"]
        return plugin != current["plugin"] or plugin != accounts.NATIVE or \
            accounts.native_hash(wanted.password) != current["hash"]
    if wanted.plugin is not None and wanted.plugin != current["plugin"] and wanted.plugin != "auth_socket":
        # IDENTIFIED WITH a plugin alone empties the password: never do that by surprise.
        raise TidbOpsError("INVALID_ARGUMENT", "changing the plugin of %s from %s to %s needs password or password_hash"
                           % (accounts.account_name(wanted.name, wanted.host), current["plugin"], wanted.plugin))
    return wanted.plugin is not None and wanted.plugin != current["plugin"]


class Writer(object):
    """The statements of one account, with its secrets kept out of any error message."""

    def __init__(self, module, connection, wanted):
        self.module, self.connection, self.wanted = module, connection, wanted
        self.account = accounts.account_name(wanted.name, wanted.host)

    def run(self, action, statement, args=None):
        if not self.module.act(action):
            return
        try:
            run_sql(self.connection, statement, args)
        except TidbOpsError as error:
            for secret in self.wanted.secrets:
                error.msg = error.msg.replace(secret, "********")
            raise

    def privileges(self, current):
        for change in accounts.privilege_changes(current, self.wanted.privileges, self.wanted.append):
            verb, level, names, _grantable = change
            action = "%s %s ON %s %s %s" % (verb.lower(), ",".join(names), level, "to" if verb == "GRANT" else "from",
                                            self.account)
            if self.module.act(action):
                accounts.apply_privilege_change(self.connection, self.wanted.name, self.wanted.host, change)


def ensure(module, connection, wanted):
    """Make one account as wanted; returns (before, after) as reported (no secrets)."""
    current = accounts.read(connection, wanted.name, wanted.host)
    writer = Writer(module, connection, wanted)
    if current is None:
        plugin = wanted.plugin or accounts.NATIVE
        text, args = identification(wanted, plugin)
        writer.run("create " + writer.account, "CREATE USER %s@%s" + text + (" ACCOUNT LOCK" if wanted.locked else ""),
                   [wanted.name, wanted.host] + args)
        after = dict(plugin=plugin, locked=bool(wanted.locked), privileges={})
        if wanted.privileges is not None:
            writer.privileges({})
            after["privileges"] = wanted.privileges
    else:
        after = dict(plugin=current["plugin"], locked=current["locked"], privileges=current["privileges"])
        if password_differs(wanted, current):
            plugin = wanted.plugin or current["plugin"]
            text, args = identification(wanted, plugin)
            writer.run("set password of " + writer.account, "ALTER USER %s@%s" + text, [wanted.name, wanted.host] + args)
            after["plugin"] = plugin
        if wanted.locked is not None and wanted.locked != current["locked"]:
            writer.run(("lock " if wanted.locked else "unlock ") + writer.account,
                       "ALTER USER %s@%s ACCOUNT " + ("LOCK" if wanted.locked else "UNLOCK"), [wanted.name, wanted.host])
            after["locked"] = wanted.locked
        if wanted.privileges is not None:
            writer.privileges(current["privileges"])
            after["privileges"] = _merged(current["privileges"], wanted.privileges, wanted.append)
    if not module.check_mode and module.changed:
        found = accounts.read(connection, wanted.name, wanted.host)
        after = dict(plugin=found["plugin"], locked=found["locked"], privileges=found["privileges"])
    before = None if current is None else dict(plugin=current["plugin"], locked=current["locked"],
                                               privileges=current["privileges"])
    return report(wanted, before), report(wanted, after)


def _merged(current, wanted, append):
    if not append:
        return wanted
    merged = dict((level, set(names)) for level, names in current.items())
    for level, names in wanted.items():
        merged.setdefault(level, set()).update(names)
    return merged


def report(wanted, state):
    if state is None:
        return None
    return dict(name=wanted.name, host=wanted.host, plugin=state["plugin"], locked=state["locked"],
                privileges=dict((level, sorted(names)) for level, names in sorted(state["privileges"].items())))


def drop(module, connection, wanted):
    current = accounts.read(connection, wanted.name, wanted.host)
    if current is not None:
        Writer(module, connection, wanted).run("drop " + accounts.account_name(wanted.name, wanted.host),
                                               "DROP USER IF EXISTS %s@%s", [wanted.name, wanted.host])
    return report(wanted, current), None


def copied_accounts(params):
    """[Wanted] for each source account matching copy_from.users (root aside)."""
    patterns = params["copy_from"]["users"]
    source = source_connect(params["copy_from"])
    try:
        found = []
        for user, host in accounts.list_accounts(source):
            if user in SKIPPED or not any(fnmatch.fnmatchcase(user, p) or fnmatch.fnmatchcase("%s@%s" % (user, host), p)
                                          for p in patterns):
                continue
            account = accounts.read(source, user, host)
            found.append(Wanted(user, host, plugin=account["plugin"], password_hash=account["hash"],
                                privileges=account["privileges"], locked=account["locked"]))
        return found
    finally:
        source.close()


def diff_text(states):
    lines = []
    for state in states:
        if state is not None:
            lock = "locked" if state["locked"] else "unlocked"
            lines.append("%s@%s: plugin %s, %s\n" % (state["name"], state["host"], state["plugin"], lock))
            lines.extend("  %s: %s\n" % (level, ",".join(names)) for level, names in sorted(state["privileges"].items()))
    return "".join(lines)


def run(module):
    params = module.params
    if params["copy_from"] and params["state"] == "absent":
        raise TidbOpsError("INVALID_ARGUMENT", "copy_from copies accounts; drop them with name and state: absent")
    if params["copy_from"]:
        wanted = copied_accounts(params)
    else:
        wanted = [Wanted(params["name"], params["host"], plugin=params["plugin"], password=params["password"],
                         password_hash=params["password_hash"], update_password=params["update_password"],
                         privileges=accounts.declared_privileges(params["privileges"])
                         if params["privileges"] is not None else None,
                         append=params["append_privileges"], locked=params["locked"])]
    for account in wanted:
        account.check()
    connection = tidb_connect(params)
    try:
        pairs = [(drop if params["state"] == "absent" else ensure)(module, connection, account) for account in wanted]
    finally:
        connection.close()
    changed_pairs = [pair for pair in pairs if pair[0] != pair[1]]
    if params["copy_from"]:
        result = module.result(users=[after for _before, after in pairs])
    else:
        result = module.result(user=pairs[0][1])
    if module._diff:
        result["diff"] = dict(before=diff_text(b for b, _a in changed_pairs), after=diff_text(a for _b, a in changed_pairs))
    return result


def main():
    copy_from = source_login_options()
    copy_from["users"] = dict(type="list", elements="str", required=True)
    module = TidbOpsModule(
        dict(
            name=dict(type="str"),
            host=dict(type="str", default="%"),
            state=dict(type="str", default="present", choices=["present", "absent"]),
            password=dict(type="str", no_log=True),
            password_hash=dict(type="str", no_log=True),
            plugin=dict(type="str", choices=list(accounts.PLUGINS)),
            update_password=dict(type="str", default="always", choices=["always", "on_create"], no_log=False),
            privileges=dict(type="dict"),
            append_privileges=dict(type="bool", default=False),
            locked=dict(type="bool"),
            copy_from=dict(type="dict", options=copy_from),
        ),
        required_one_of=[["name", "copy_from"]],
        mutually_exclusive=[["name", "copy_from"], ["password", "password_hash"]],
        ranges={"copy_from.login_port": PORT, "copy_from.connect_timeout": SECONDS},
        blocks=("login",), supports_check_mode=True)
    module.run(run, module)


if __name__ == "__main__":
    main()
