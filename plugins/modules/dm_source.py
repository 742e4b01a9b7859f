#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, tidbops.manager contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
---
module: dm_source
short_description: Create, update, enable, disable, transfer and delete TiDB DM upstream sources
version_added: "0.2.0"
description:
  - Manages a DM source (an upstream MySQL or MariaDB) over the DM-master OpenAPI
    (C(/api/v1/sources)), from the module's options or from a DM source YAML file (C(source-id),
    C(from), C(enable-gtid), C(flavor), relay and C(purge) settings); options override the file.
  - DM masks the password when the source is read, so the password is write-only - see O(update_password).
  - Only the fields given are compared with the source DM has (DM fills in the flavor it detects).
    DM refuses to update a source while a task on it runs or its relay is enabled (C(DM_SOURCE_IN_USE)).
  - O(worker) moves the source to that worker (DM's transfer); O(relay) enables, disables or
    purges its relay log.
options:
  name:
    description:
      - The source's name (C(source-id)). Defaults to the file's C(source-id).
    type: str
    aliases: [source_name]
  source_file:
    description:
      - A DM source YAML file on the managed node. Its password may be plaintext or made with C(dmctl encrypt).
    type: path
  state:
    description:
      - V(present) creates the source (enabled) or updates a different one; V(enabled) and
        V(disabled) also enable or disable it (enabling makes DM start every task of the source,
        disabling stops them); V(absent) deletes it.
    type: str
    choices: [present, absent, enabled, disabled]
    default: present
  host:
    description:
      - The upstream's host.
    type: str
  port:
    description:
      - The upstream's port.
    type: int
  user:
    description:
      - The user DM connects upstream as.
    type: str
  password:
    description:
      - The user's password. Never logged or returned.
    type: str
  update_password:
    description:
      - V(on_create) sends the password only when the source is created (or with another update).
      - V(always) sends it on every run, as an update - DM cannot show the password, so this always
        reports a change; use it to change the password.
    type: str
    choices: [always, on_create]
    default: on_create
  enable_gtid:
    description:
      - Pull the binlog by GTID.
    type: bool
  flavor:
    description:
      - The upstream's flavor; DM detects it when not given.
    type: str
    choices: [mysql, mariadb]
  worker:
    description:
      - The DM-worker the source must be bound to; a bound source is transferred to it (the worker
        must be free). At creation, the worker it is bound to.
    type: str
  relay:
    description:
      - V(enabled) or V(disabled) the relay log of the source (on its bound worker, or O(relay_workers)).
      - V(purged) purges relay files older than O(relay_binlog_name) (always a change).
    type: str
    choices: [enabled, disabled, purged]
  relay_workers:
    description:
      - The workers to enable or disable relay on; by default the bound worker.
    type: list
    elements: str
  relay_binlog_name:
    description:
      - For V(enabled), the binlog file relay starts from; for V(purged), the file before which relay logs are purged.
    type: str
  relay_binlog_gtid:
    description:
      - For V(enabled), the GTID set relay starts from.
    type: str
  relay_dir:
    description:
      - For V(enabled), the relay directory; for V(purged), the relay sub-directory.
    type: str
  force:
    description:
      - With O(state=absent), delete the source's subtasks too; without it DM refuses while tasks use the source.
    type: bool
    default: false
extends_documentation_fragment:
  - tidbops.manager.dm
  - ansible.builtin.action_common_attributes
  - tidbops.manager.attributes
attributes:
  check_mode:
    support: full
  diff_mode:
    support: full
    details: Shows the source before and after, without the password.
notes:
  - Creating and updating a source makes DM connect upstream with the credentials; a wrong
    password fails with C(DM_SOURCE_INVALID) and DM's error code.
  - Binlog event C(filters) of a source YAML cannot be expressed in the OpenAPI and are refused.
seealso:
  - module: tidbops.manager.dm_task
  - module: tidbops.manager.dm_member_info
author:
  - tidbops.manager contributors (@tidbops)
'''

EXAMPLES = r'''
- name: A source from its DM source file
  tidbops.manager.dm_source:
    source_file: /etc/dm/source-mysql-01.yaml
    dm_master_url: http://dm-master-1:8261

- name: A source from options, with relay
  tidbops.manager.dm_source:
    name: mysql-01
    host: 10.0.2.10
    port: 3306
    user: dm
    password: "{{ vault_dm_upstream_password }}"
    enable_gtid: true
    relay: enabled

- name: Move it to another worker
  tidbops.manager.dm_source:
    name: mysql-01
    worker: dm-worker-2

- name: Disable it (stops its subtasks)
  tidbops.manager.dm_source:
    name: mysql-01
    state: disabled

- name: Delete it with its subtasks
  tidbops.manager.dm_source:
    name: mysql-01
    state: absent
    force: true
'''

RETURN = r'''
source:
  description: The source as DM returns it (password masked); in check mode the wanted source.
  returned: when the source exists or is wanted
  type: dict
status:
  description: Per worker - C(source_name), C(worker_name), C(relay_status), C(error_msg).
  returned: when the source exists
  type: list
  elements: dict
actions:
  description: What the module did (or would do) - create, update, enable, disable, transfer, relay_enable, relay_disable, relay_purge, delete.
  returned: always
  type: list
  elements: str
changed_fields:
  description: The given fields that differ from the source DM has.
  returned: always
  type: list
  elements: str
error_code:
  description: A stable code for the failure (see docs/error-codes.md).
  returned: failure
  type: str
  sample: DM_SOURCE_INVALID
dm_error_code:
  description: DM's own error code, when DM refused the request.
  returned: failure
  type: int
'''

from ansible_collections.tidbops.manager.plugins.module_utils.module import TidbOpsModule
from ansible_collections.tidbops.manager.plugins.module_utils.specs import PORT

from ansible_collections.tidbops.manager.plugins.module_utils.dm import source_config as scfg
from ansible_collections.tidbops.manager.plugins.module_utils.dm.api import DmClient
from ansible_collections.tidbops.manager.plugins.module_utils.errors import TidbOpsError
from ansible_collections.tidbops.manager.plugins.module_utils import yamldoc


def wanted_source(params):
    """(OpenAPI Source from the file and options, warnings)."""
    source, warnings = {}, []
    if params["source_file"]:
        source, warnings = scfg.source_from_yaml(yamldoc.load_file(params["source_file"], "DM_SOURCE_INVALID", "source_file"))
    source = scfg.merge_options(source, dict(source_name=params["name"], host=params["host"], port=params["port"],
                                             user=params["user"], password=params["password"],
                                             enable_gtid=params["enable_gtid"], flavor=params["flavor"]))
    if not source.get("source_name"):
        raise TidbOpsError("INVALID_ARGUMENT", "name (or a source_file with source-id) is required")
    return source, warnings


def dump(data):
    return yamldoc.dump(scfg.comparable(data) if data else None)


class SourceRun(object):
    def __init__(self, module, client):
        self.module = module
        self.params = module.params
        self.client = client
        self.act = module.act
        self.result = dict(changed_fields=[])
        self.wanted, warnings = wanted_source(module.params)
        for warning in warnings:
            module.warn(warning)
        if self.wanted.get("password"):
            module.no_log_values.add(str(self.wanted["password"]))  # a password from source_file
        self.name = self.wanted["source_name"]

    def run(self):
        actual = self.client.get_source(self.name, with_status=True)
        state = self.params["state"]
        if state == "absent":
            if actual is not None and self.act("delete"):
                self.client.delete_source(self.name, force=self.params["force"])
            return self.report(actual, None)
        if actual is None:
            self.create()
        else:
            self.update(actual)
            self.transfer(actual)
        if state in ("enabled", "disabled"):
            enable = state == "enabled"
            # A source just created has the wanted enable flag already (see create()).
            if actual is not None and bool(actual.get("enable")) != enable and self.act("enable" if enable else "disable"):
                self.client.enable_source(self.name, enable)
        self.relay(actual)
        after = None if self.module.check_mode else self.client.get_source(self.name, with_status=True)
        return self.report(actual, after)

    def create(self):
        source = scfg.validate_source(dict(self.wanted))
        if self.params["state"] == "disabled":
            source["enable"] = False
        if self.act("create"):
            self.client.create_source(source, worker=self.params["worker"])

    def update(self, actual):
        fields = scfg.changed_fields(self.wanted, actual)
        self.result["changed_fields"] = fields
        resend_password = self.params["update_password"] == "always" and self.wanted.get("password") is not None
        if not fields and not resend_password:
            return
        source = scfg.merge_options(dict((k, v) for k, v in actual.items()
                                         if k not in ("password", "status_list", "task_name_list")), self.wanted)
        if self.params["update_password"] == "on_create":
            source.pop("password", None)  # DM keeps the stored password when none is sent
        if source.get("security") and not source["security"].get("ssl_ca_content"):
            source.pop("security")  # read back without contents: sending it would clear the TLS files
        if self.act("update"):
            self.client.update_source(scfg.validate_source(source))

    def transfer(self, actual):
        worker = self.params["worker"]
        bound = [s.get("worker_name") for s in actual.get("status_list") or [] if s.get("worker_name")]
        if worker and worker not in bound and self.act("transfer"):
            self.client.transfer_source(self.name, worker)

    def relay(self, actual):
        relay = self.params["relay"]
        if relay is None:
            return
        if relay == "purged":
            if self.act("relay_purge"):
                self.client.purge_relay(self.name, self.params["relay_binlog_name"], self.params["relay_dir"])
            return
        enabled = relay_enabled(actual)
        if relay == "enabled" and not enabled and self.act("relay_enable"):
            self.client.enable_relay(self.name, workers=self.params["relay_workers"],
                                     binlog_name=self.params["relay_binlog_name"],
                                     binlog_gtid=self.params["relay_binlog_gtid"], relay_dir=self.params["relay_dir"])
        elif relay == "disabled" and enabled and self.act("relay_disable"):
            self.client.disable_relay(self.name, workers=self.params["relay_workers"])

    def report(self, before, after):
        if self.module.check_mode:
            after = None if self.params["state"] == "absent" else scfg.merge_options(before or {}, self.wanted)
        if after:
            self.result["source"] = scfg.masked_source(dict((k, v) for k, v in after.items() if k != "status_list"))
            self.result["status"] = after.get("status_list") or []
        if self.module._diff:
            self.result["diff"] = dict(before=dump(before), after=dump(after))
        return self.module.result(**self.result)


def relay_enabled(source):
    """Relay runs on a worker of the source (its status has relay_status), or is configured on."""
    if not source:
        return False
    if any(s.get("relay_status") for s in source.get("status_list") or []):
        return True
    return bool((source.get("relay_config") or {}).get("enable_relay"))


def main():
    module = TidbOpsModule(
        dict(
            name=dict(type="str", aliases=["source_name"]),
            source_file=dict(type="path"),
            state=dict(type="str", default="present", choices=["present", "absent", "enabled", "disabled"]),
            host=dict(type="str"),
            port=dict(type="int"),
            user=dict(type="str"),
            password=dict(type="str", no_log=True),
            update_password=dict(type="str", default="on_create", choices=["always", "on_create"], no_log=False),
            enable_gtid=dict(type="bool"),
            flavor=dict(type="str", choices=["mysql", "mariadb"]),
            worker=dict(type="str"),
            relay=dict(type="str", choices=["enabled", "disabled", "purged"]),
            relay_workers=dict(type="list", elements="str"),
            relay_binlog_name=dict(type="str"),
            relay_binlog_gtid=dict(type="str"),
            relay_dir=dict(type="str"),
            force=dict(type="bool", default=False),
        ),
        ranges=dict(port=PORT),
        blocks=("dm",), requires_yaml=True, supports_check_mode=True,
        required_if=[("relay", "purged", ("relay_binlog_name",))])
    module.run(lambda: SourceRun(module, DmClient.from_params(module.params)).run())


if __name__ == "__main__":
    main()
