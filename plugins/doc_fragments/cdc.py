# -*- coding: utf-8 -*-
# Copyright: (c) 2026, tidbops.manager contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type


class ModuleDocFragment(object):
    # The TiCDC servers' OpenAPI (module_utils/specs.py cdc_options), for the TiCDC modules.
    DOCUMENTATION = r'''
options:
  cdc_url:
    description:
      - Addresses of the TiCDC servers' OpenAPI (V(http://host:8300)), tried in order until one
        answers; any server works, a server that is not the owner forwards to the owner.
    type: list
    elements: str
    default: ['http://127.0.0.1:8300']
  cdc_timeout:
    description:
      - Seconds to wait for each TiCDC HTTP request.
    type: int
    default: 30
'''
