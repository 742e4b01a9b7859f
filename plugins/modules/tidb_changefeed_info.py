#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, tidbops.manager contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
---
module: tidb_changefeed_info
short_description: List TiCDC changefeeds with their state, checkpoint, lag and error
version_added: "0.2.0"
description:
  - Reads the changefeeds of a TiCDC cluster through its OpenAPI (v2 from TiCDC v6.6.0, v1 before), in every
    state, with each one's sink (the password shown as C(xxxxx)), checkpoint, lag and error.
options:
  changefeed_id:
    description:
      - Only this changefeed; an empty list when it does not exist.
    type: str
    aliases: [id]
  namespace:
    description:
      - The changefeeds' namespace.
    type: str
    default: default
extends_documentation_fragment:
  - tidbops.manager.cdc
  - ansible.builtin.action_common_attributes
  - tidbops.manager.attributes
attributes:
  check_mode:
    support: full
    details: Only reads.
  diff_mode:
    support: none
seealso:
  - module: tidbops.manager.tidb_changefeed
author:
  - tidbops.manager contributors (@tidbops)
'''

EXAMPLES = r'''
- name: Which changefeeds lag
  tidbops.manager.tidb_changefeed_info:
    cdc_url: ["http://10.0.1.8:8300"]
  register: feeds

- name: Fail when one is more than a minute behind
  ansible.builtin.assert:
    that: feeds.changefeeds | selectattr('lag_seconds', 'gt', 60) | list | length == 0
'''

RETURN = r'''
changefeeds:
  description: The changefeeds, by id.
  returned: success
  type: list
  elements: dict
  contains:
    id:
      description: Its id.
      type: str
    state:
      description: TiCDC's state (normal, stopped, warning, failed, finished, removed, pending).
      type: str
    checkpoint_ts:
      description: Every change committed at or before this TSO is in the sink.
      type: int
    checkpoint_time:
      description: The checkpoint as a local time.
      type: str
    lag_seconds:
      description: How far the checkpoint is behind this host's clock, in seconds.
      type: float
    sink_uri:
      description: The sink, the password as C(xxxxx).
      type: str
    error:
      description: The error TiCDC reports (state warning or failed), else null.
      type: dict
  sample: [{"id": "shop-to-clone", "state": "normal", "checkpoint_ts": 450123499999012480, "lag_seconds": 1.2,
            "sink_uri": "mysql://cdc_writer:xxxxx@10.0.2.5:4000/"}]
version:
  description: The TiCDC server's version.
  returned: success
  type: str
  sample: v7.5.1
api:
  description: The OpenAPI version used.
  returned: success
  type: str
  sample: v2
'''

import time

from ansible_collections.tidbops.manager.plugins.module_utils.cdc.api import CdcClient
from ansible_collections.tidbops.manager.plugins.module_utils.module import TidbOpsModule

LOGICAL_BITS = 18


def describe(client, item, now):
    feed = client.get(item["id"]) or item
    checkpoint = int(feed.get("checkpoint_ts") or item.get("checkpoint_tso") or 0)
    out = dict(id=item["id"], namespace=item.get("namespace"), state=feed.get("state", item.get("state")),
               checkpoint_ts=checkpoint, checkpoint_time=feed.get("checkpoint_time") or item.get("checkpoint_time"),
               lag_seconds=round(max(0.0, now - (checkpoint >> LOGICAL_BITS) / 1000.0), 3) if checkpoint else None,
               sink_uri=feed.get("sink_uri"), start_ts=feed.get("start_ts"), target_ts=feed.get("target_ts") or 0,
               error=feed.get("error") or item.get("error"))
    rules = ((feed.get("config") or {}).get("filter") or {}).get("rules")
    if rules is not None:
        out["filter_rules"] = rules
    return out


def run(module):
    client = CdcClient.from_params(module.params, namespace=module.params["namespace"])
    wanted = module.params["changefeed_id"]
    if wanted:
        found = client.get(wanted)
        items = [dict(found, id=wanted)] if found else []
    else:
        items = client.list()
    now = time.time()
    feeds = [describe(client, item, now) for item in sorted(items, key=lambda i: i["id"])]
    return module.result(changefeeds=feeds, version=client.version, api=client.api)


def main():
    module = TidbOpsModule(
        dict(changefeed_id=dict(type="str", aliases=["id"]), namespace=dict(type="str", default="default")),
        blocks=("cdc",), supports_check_mode=True)
    module.run(run, module)


if __name__ == "__main__":
    main()
