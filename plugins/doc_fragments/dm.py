# -*- coding: utf-8 -*-
# Copyright: (c) 2026, tidbops.manager contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type


class ModuleDocFragment(object):
    # The DM-master OpenAPI and dmctl (module_utils/specs.py dm_options).
    DOCUMENTATION = r'''
options:
  dm_master_url:
    description:
      - Addresses of the DM-masters' OpenAPI (V(http://host:8261)), tried in order until one
        answers; any master works, a non-leader forwards to the leader.
      - The DM-master must run with C(openapi = true).
    type: list
    elements: str
    default: ['http://127.0.0.1:8261']
  dm_timeout:
    description:
      - Seconds to wait for each DM-master HTTP request.
    type: int
    default: 30
  dmctl_path:
    description:
      - Path of the C(dmctl) binary, for what only dmctl can do (the task check with error and
        warning limits, shard DDL locks, leader eviction). By default C(dmctl) is looked up on E(PATH).
    type: path
'''
