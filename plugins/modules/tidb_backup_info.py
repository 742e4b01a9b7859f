#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, tidbops.manager contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
---
module: tidb_backup_info
short_description: List backup records from the catalog
version_added: "0.1.0"
description:
  - Reads the backup records kept by M(tidbops.manager.tidb_backup), newest first, filtered by
    cluster, mode, status and start time, a page at a time.
  - A running backup's record shows its progress.
  - Never changes anything.
options:
  cluster:
    description:
      - Only backups of this cluster.
    type: str
  name:
    description:
      - Only the backup with this id.
    type: str
    aliases: [id]
  mode:
    description:
      - Only V(manual) or only V(auto) backups.
    type: str
    choices: [manual, auto]
  status:
    description:
      - Only backups in these statuses.
    type: list
    elements: str
    choices: [processing, finished, failed, cancelled]
  since:
    description:
      - Only backups started at or after this time (ISO-8601; UTC when no offset is given).
    type: str
  until:
    description:
      - Only backups started before this time (ISO-8601).
    type: str
extends_documentation_fragment:
  - tidbops.manager.catalog
  - tidbops.manager.s3
  - tidbops.manager.paging
  - ansible.builtin.action_common_attributes
  - tidbops.manager.attributes
  - tidbops.manager.attributes.info_module
seealso:
  - module: tidbops.manager.tidb_backup
author:
  - tidbops.manager contributors (@tidbops)
'''

EXAMPLES = r'''
- name: The last five finished backups of a cluster
  tidbops.manager.tidb_backup_info:
    cluster: prod-1
    status: [finished]
    limit: 5
  register: recent

- name: Automatic backups of the last week
  tidbops.manager.tidb_backup_info:
    cluster: prod-1
    mode: auto
    since: "{{ '%Y-%m-%dT%H:%M:%SZ' | strftime(now(utc=true).timestamp() - 7 * 86400) }}"
'''

RETURN = r'''
backups:
  description: The matching records, newest first (see M(tidbops.manager.tidb_backup) for the fields).
  returned: always
  type: list
  elements: dict
total:
  description: How many records match, before O(limit) and O(offset).
  returned: always
  type: int
'''

from ansible_collections.tidbops.manager.plugins.module_utils.module import TidbOpsModule

from ansible_collections.tidbops.manager.plugins.module_utils.backup.records import KIND, filter_records
from ansible_collections.tidbops.manager.plugins.module_utils.catalog.store import parse_time
from ansible_collections.tidbops.manager.plugins.module_utils.catalog.access import (
    open_catalog, page_of, records_of)
from ansible_collections.tidbops.manager.plugins.module_utils.errors import TidbOpsError


def report(params):
    for bound in ("since", "until"):
        if params[bound] and parse_time(params[bound]) is None:
            raise TidbOpsError("INVALID_ARGUMENT", "%s %r is not an ISO-8601 time" % (bound, params[bound]))
    records = records_of(open_catalog(params), KIND, params["name"])
    matching = filter_records(records, params["cluster"], params["mode"], params["status"],
                              params["since"], params["until"])
    page, total = page_of(matching, params)
    return dict(changed=False, backups=page, total=total)


def main():
    module = TidbOpsModule(
        dict(
            cluster=dict(type="str"),
            name=dict(type="str", aliases=["id"]),
            mode=dict(type="str", choices=["manual", "auto"]),
            status=dict(type="list", elements="str", choices=["processing", "finished", "failed", "cancelled"]),
            since=dict(type="str"),
            until=dict(type="str"),
        ),
        blocks=("catalog", "s3", "paging"), supports_check_mode=True)
    module.run(report, module.params)


if __name__ == "__main__":
    main()
