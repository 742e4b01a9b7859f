#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, tidbops.manager contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
---
module: tidb_transfer_info
short_description: List import and export (transfer) records from the catalog
version_added: "0.1.0"
description:
  - Reads the transfer records of data exports and imports kept in the catalog, newest first,
    filtered by cluster, type, status and whether the data can be imported again, a page at a time.
  - The records have TiUniManager's fields (DataTransportRecord) in snake_case - C(id), C(cluster),
    C(type), C(path), C(storage_type), C(file_type), C(status), C(reimport_support), C(size),
    C(rows), C(start_time), C(end_time), C(comment), C(config_path).
  - Never changes anything.
options:
  cluster:
    description:
      - Only transfers of this cluster.
    type: str
  name:
    description:
      - Only the transfer with this id.
    type: str
    aliases: [id]
  type:
    description:
      - Only V(export)s or only V(import)s.
    type: str
    choices: [export, import]
  status:
    description:
      - Only transfers in these statuses.
    type: list
    elements: str
    choices: [processing, finished, failed]
  reimport:
    description:
      - V(true) keeps only the records whose data can be imported again (C(reimport_support) and
        status C(finished), as TiUniManager's C(reImport) query did); V(false) keeps only the others.
      - Not set, both.
    type: bool
extends_documentation_fragment:
  - tidbops.manager.catalog
  - tidbops.manager.s3
  - tidbops.manager.paging
  - ansible.builtin.action_common_attributes
  - tidbops.manager.attributes
  - tidbops.manager.attributes.info_module
seealso:
  - module: tidbops.manager.tidb_backup_info
author:
  - tidbops.manager contributors (@tidbops)
'''

EXAMPLES = r'''
- name: Exports of a cluster that can be imported again
  tidbops.manager.tidb_transfer_info:
    cluster: prod-1
    type: export
    reimport: true
  register: reusable

- name: Transfers that are running or failed, ten at a time
  tidbops.manager.tidb_transfer_info:
    status: [processing, failed]
    limit: 10
    offset: 10
'''

RETURN = r'''
transfers:
  description: The matching transfer records, newest first (by C(start_time)).
  returned: always
  type: list
  elements: dict
  sample:
    - id: export-20260301
      cluster: prod-1
      type: export
      path: /data/export/prod-1/2026-03-01-02-00-00-local/data
      storage_type: local
      file_type: sql
      status: finished
      reimport_support: true
      size: 1048576
      rows: 20000
      start_time: "2026-03-01T02:00:00Z"
      end_time: "2026-03-01T02:03:10Z"
      comment: nightly dump
      config_path: /data/export/prod-1/2026-03-01-02-00-00-local
total:
  description: How many records match, before O(limit) and O(offset).
  returned: always
  type: int
'''

from ansible_collections.tidbops.manager.plugins.module_utils.module import TidbOpsModule

from ansible_collections.tidbops.manager.plugins.module_utils.catalog.access import (
    open_catalog, page_of, records_of)
from ansible_collections.tidbops.manager.plugins.module_utils.transfer.records import KIND, filter_transfers


def report(params):
    records = records_of(open_catalog(params), KIND, params["name"])
    matching = filter_transfers(records, cluster=params["cluster"], transfer_type=params["type"],
                                status=params["status"], reimport=params["reimport"])
    page, total = page_of(matching, params)
    return dict(changed=False, transfers=page, total=total)


def main():
    module = TidbOpsModule(
        dict(
            cluster=dict(type="str"),
            name=dict(type="str", aliases=["id"]),
            type=dict(type="str", choices=["export", "import"]),
            status=dict(type="list", elements="str", choices=["processing", "finished", "failed"]),
            reimport=dict(type="bool"),
        ),
        blocks=("catalog", "s3", "paging"), supports_check_mode=True)
    module.run(report, module.params)


if __name__ == "__main__":
    main()
