#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, tidbops.manager contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
---
module: tidb_backup_strategy
short_description: Set or remove the automatic backup strategy of a TiDB cluster
version_added: "0.1.0"
description:
  - Keeps one automatic backup strategy per cluster in the catalog (a record of kind
    C(strategy) whose id is the cluster name), as TiUniManager's C(PUT /clusters/{id}/strategy)
    did with C(backupDate) and C(period).
  - The strategy says when an automatic backup is due, on the listed O(weekdays) within the
    hour window O(period), read in O(timezone). M(tidbops.manager.tidb_backup) with
    C(mode=auto) backs up only then, once per window, and afterwards deletes the automatic
    backups that O(max_backups) and O(max_age) no longer keep.
  - "Differences from TiUniManager: the end hour is enforced (at the end hour the window is
    over); hour 0 behaves like any other hour (TiUniManager fired every strategy of the weekday
    at midnight); the window may end at V(24:00); and retention of automatic backups is new."
  - Only writes the record when it differs from the stored one, so a second run reports no
    change. Every option is validated before the catalog is read or written.
options:
  cluster:
    description:
      - The cluster the strategy is for (its tiup name). Also the record's id.
    type: str
    required: true
  state:
    description:
      - V(present) stores the strategy (replacing a different one); V(absent) removes it, after
        which no automatic backup is due for the cluster.
    type: str
    choices: [present, absent]
    default: present
  weekdays:
    description:
      - The days on which a backup is due, read in O(timezone).
      - Full English names or their first three letters, in any case (V(Monday), V(mon)); an
        item may also be TiUniManager's comma-separated C(backupDate) (V(Monday,Thursday)).
      - Stored as full names, Monday first, without duplicates.
      - Required when O(state=present).
    type: list
    elements: str
  period:
    description:
      - The hour window V(HH:00-HH:00), start included and end excluded, in O(timezone), for
        example V(02:00-04:00).
      - Two-digit hours on the hour, with 0 <= start < end <= 24; V(24:00) is midnight at the
        end of the day (V(22:00-24:00)). A window does not span midnight.
      - Required when O(state=present).
    type: str
  max_backups:
    description:
      - Keep at most this many finished automatic backups of the cluster; older ones are deleted
        (files and records) after each automatic backup. At least 1.
      - Unset keeps any number. Manual backups are never counted nor deleted.
    type: int
  max_age:
    description:
      - Delete automatic backups that started longer ago than this, a duration such as V(7d),
        V(36h), V(2w) or V(1d12h) (units V(s), V(m), V(h), V(d), V(w)). Failed and cancelled
        automatic backups this old go too.
      - The newest finished backup is kept whatever its age, and a running one is never deleted.
      - Unset keeps backups of any age.
    type: str
  timezone:
    description:
      - The time zone O(weekdays) and O(period) are read in, V(UTC) or a fixed offset from UTC
        such as V(+08:00) or V(-05:30). Zone names (and so daylight saving time) are not supported.
    type: str
    default: UTC
extends_documentation_fragment:
  - tidbops.manager.catalog
  - tidbops.manager.s3
  - ansible.builtin.action_common_attributes
  - tidbops.manager.attributes
attributes:
  check_mode:
    support: full
  diff_mode:
    support: full
notes:
  - Needs O(catalog). Bad input fails with C(BACKUP_STRATEGY_INVALID) and the name of the bad
    option in C(field), before anything is read or written.
  - Removing a strategy keeps the cluster's backups.
seealso:
  - module: tidbops.manager.tidb_backup
author:
  - tidbops.manager contributors (@tidbops)
'''

EXAMPLES = r'''
- name: Back up prod-1 on Monday and Thursday nights, keep a week of backups but at most 4
  tidbops.manager.tidb_backup_strategy:
    catalog: s3://ops-bucket/tidbops
    cluster: prod-1
    weekdays: [Monday, Thursday]
    period: "02:00-04:00"
    max_backups: 4
    max_age: 7d

- name: Every day from 22:00 to midnight, Beijing time (TiUniManager's backupDate string)
  tidbops.manager.tidb_backup_strategy:
    cluster: prod-2
    weekdays: "Monday,Tuesday,Wednesday,Thursday,Friday,Saturday,Sunday"
    period: "22:00-24:00"
    timezone: "+08:00"

- name: No more automatic backups of prod-3
  tidbops.manager.tidb_backup_strategy:
    cluster: prod-3
    state: absent
'''

RETURN = r'''
strategy:
  description:
    - The strategy as stored (or, in check mode, as it would be stored); V({}) when there is none.
  returned: always
  type: dict
  sample:
    id: prod-1
    cluster: prod-1
    weekdays: [Monday, Thursday]
    period: "02:00-04:00"
    start_hour: 2
    end_hour: 4
    max_backups: 4
    max_age: 7d
    timezone: UTC
    updated_at: "2026-11-20T09:15:02Z"
  contains:
    id:
      description: The record's id, the cluster name.
      type: str
    cluster:
      description: The cluster name.
      type: str
    weekdays:
      description: The weekdays, full English names, Monday first.
      type: list
      elements: str
    period:
      description: The window, V(HH:00-HH:00).
      type: str
    start_hour:
      description: The first hour of the window (0-23).
      type: int
    end_hour:
      description: The hour the window ends at, excluded (1-24).
      type: int
    max_backups:
      description: How many finished automatic backups are kept, or V(null) for any number.
      type: int
    max_age:
      description: How old an automatic backup may get, or V(null) for any age.
      type: str
    timezone:
      description: V(UTC) or the fixed offset the weekdays and hours are read in.
      type: str
    updated_at:
      description: When the record was written (UTC). Not set in check mode.
      type: str
      returned: when the record exists
'''

from ansible_collections.tidbops.manager.plugins.module_utils.module import TidbOpsModule

from ansible_collections.tidbops.manager.plugins.module_utils import yamldoc
from ansible_collections.tidbops.manager.plugins.module_utils.catalog.access import open_catalog
from ansible_collections.tidbops.manager.plugins.module_utils.catalog import kinds
from ansible_collections.tidbops.manager.plugins.module_utils.backup import schedule as backup_schedule

KIND = kinds.STRATEGY
FIELDS = ("id", "cluster", "weekdays", "period", "start_hour", "end_hour", "max_backups",
          "max_age", "timezone")


def strategy_fields(record):
    """The fields that define a strategy (not updated_at), for comparing and diffing."""
    if not record:
        return {}
    return dict((key, record.get(key)) for key in FIELDS)


def as_diff_text(record):
    return yamldoc.dump(strategy_fields(record))


def run(module):
    params = module.params
    cluster = params["cluster"]
    # Validation first: nothing is read or written for bad input.
    if params["state"] == "present":
        desired = backup_schedule.normalize_strategy(
            cluster, params["weekdays"], params["period"], max_backups=params["max_backups"],
            max_age=params["max_age"], timezone=params["timezone"])
    else:
        backup_schedule.validate_cluster(cluster)
        desired = None
    catalog = open_catalog(params)

    current = catalog.find(KIND, cluster)
    strategy = current or {}
    if desired is not None:
        if strategy_fields(current) != desired:
            strategy = catalog.put(KIND, desired) if module.act("update" if current else "create") else desired
    elif current is not None:
        strategy = {}
        if module.act("delete"):
            catalog.delete(KIND, cluster)
    result = module.result(strategy=strategy)
    if module._diff:
        result["diff"] = dict(before=as_diff_text(current), after=as_diff_text(desired))
    return result


def main():
    module = TidbOpsModule(
        dict(
            cluster=dict(type="str", required=True),
            state=dict(type="str", choices=["present", "absent"], default="present"),
            weekdays=dict(type="list", elements="str"),
            period=dict(type="str"),
            max_backups=dict(type="int"),
            max_age=dict(type="str"),
            timezone=dict(type="str", default="UTC"),
        ),
        blocks=("catalog", "s3"), requires_yaml=True, supports_check_mode=True,
        required_if=[("state", "present", ("weekdays", "period"))])
    module.run(run, module)


if __name__ == "__main__":
    main()
