#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, tidbops.manager contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
---
module: tidb_gc
short_description: Hold and release a TiDB cluster's GC life time
version_added: "0.1.0"
description:
  - V(held) saves the cluster's current C(tidb_gc_life_time) in the catalog and sets a longer one,
    so that the MVCC versions a long job (a backup, an export, a clone) reads are not garbage
    collected under it. V(released) puts the saved value back and forgets it.
  - The saved value survives a failed play, so a rescue or a later run can release it; holding
    twice keeps the first saved value (never the held one).
  - Before TiDB v5.0 the value lives in C(mysql.tidb) (C(tikv_gc_life_time)); the module uses it there.
options:
  cluster:
    description:
      - The cluster's name, the key of its GC hold in the catalog.
    type: str
    required: true
  state:
    description:
      - V(held) or V(released).
    type: str
    choices: [held, released]
    default: held
  life_time:
    description:
      - The GC life time to hold, a Go duration (TiDB accepts 10m0s to 8760h0m0s).
    type: str
    default: 720h
extends_documentation_fragment:
  - tidbops.manager.login
  - tidbops.manager.tiup
  - tidbops.manager.catalog
  - tidbops.manager.s3
  - ansible.builtin.action_common_attributes
  - tidbops.manager.attributes
attributes:
  check_mode:
    support: full
  diff_mode:
    support: full
    details: Shows the GC life time before and after.
notes:
  - BR, Dumpling and TiCDC register a PD service safepoint themselves, so a hold is mostly
    needed for long jobs that do not (or to be safe across several steps, as a clone is).
seealso:
  - module: tidbops.manager.tidb_backup
  - name: GC configuration
    description: TiDB's garbage collection settings.
    link: https://docs.pingcap.com/tidb/stable/garbage-collection-configuration
author:
  - tidbops.manager contributors (@tidbops)
'''

EXAMPLES = r'''
- name: Keep MVCC history for a long job
  tidbops.manager.tidb_gc:
    cluster: prod-1
    life_time: 720h
    catalog: /var/lib/tidbops

- name: Put the original GC life time back
  tidbops.manager.tidb_gc:
    cluster: prod-1
    state: released
    catalog: /var/lib/tidbops
'''

RETURN = r'''
gc_life_time:
  description: The cluster's GC life time after the task (in check mode, what it would be).
  returned: always
  type: str
  sample: 720h0m0s
original:
  description: The GC life time saved when the hold was taken (null when nothing is held).
  returned: always
  type: str
  sample: 10m0s
held:
  description: Whether a hold is recorded after the task.
  returned: always
  type: bool
error_code:
  description: A stable code for the failure (see docs/error-codes.md).
  returned: failure
  type: str
'''

from ansible_collections.tidbops.manager.plugins.module_utils.module import TidbOpsModule

from ansible_collections.tidbops.manager.plugins.module_utils.catalog.access import open_catalog
from ansible_collections.tidbops.manager.plugins.module_utils.catalog import kinds
from ansible_collections.tidbops.manager.plugins.module_utils.errors import TidbOpsError
from ansible_collections.tidbops.manager.plugins.module_utils.tools.sql import (
    get_gc_life_time, parse_go_duration, set_gc_life_time)
from ansible_collections.tidbops.manager.plugins.module_utils.cluster.identity import Cluster

KIND = kinds.GC_HOLD


def hold(module, catalog, connection, current, record):
    wanted = module.params["life_time"]
    original = record["original"] if record else current
    if record is not None and parse_go_duration(current) == parse_go_duration(wanted):
        return current, original, True
    if not module.act("hold"):
        return wanted, original, True
    if record is None:
        # Saved before the change: a failure after this point still knows what to restore.
        catalog.put(KIND, dict(id=module.params["cluster"], cluster=module.params["cluster"],
                               original=current, held=wanted))
    set_gc_life_time(connection, wanted)
    return get_gc_life_time(connection), original, True


def release(module, catalog, connection, current, record):
    if record is None:
        return current, None, False
    if not module.act("release"):
        return record["original"], None, False
    if parse_go_duration(current) != parse_go_duration(record["original"]):
        set_gc_life_time(connection, record["original"])
    catalog.delete(KIND, module.params["cluster"])
    return get_gc_life_time(connection), None, False


def run(module):
    params = module.params
    seconds = parse_go_duration(params["life_time"])
    if not 600 <= seconds <= 8760 * 3600:
        raise TidbOpsError("INVALID_ARGUMENT", "life_time must be between 10m and 8760h, not %s"
                           % params["life_time"])
    catalog = open_catalog(params)
    record = catalog.find(KIND, params["cluster"])
    connection = Cluster(params).connect()
    try:
        current = get_gc_life_time(connection)
        action = hold if params["state"] == "held" else release
        after, original, held = action(module, catalog, connection, current, record)
    finally:
        connection.close()
    result = module.result(gc_life_time=after, original=original, held=held)
    if module._diff:
        result["diff"] = dict(before="tidb_gc_life_time: %s\n" % current, after="tidb_gc_life_time: %s\n" % after)
    return result


def main():
    module = TidbOpsModule(
        dict(
            cluster=dict(type="str", required=True),
            state=dict(type="str", default="held", choices=["held", "released"]),
            life_time=dict(type="str", default="720h"),
        ),
        blocks=("login", "tiup", "catalog", "s3"), supports_check_mode=True)
    module.run(run, module)


if __name__ == "__main__":
    main()
