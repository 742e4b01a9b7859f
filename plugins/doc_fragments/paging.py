# -*- coding: utf-8 -*-
# Copyright: (c) 2026, tidbops.manager contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type


class ModuleDocFragment(object):
    # Paging through the records an *_info module lists (module_utils/specs.py paging_options).
    DOCUMENTATION = r'''
options:
  limit:
    description:
      - At most this many records (after O(offset)).
    type: int
    default: 100
  offset:
    description:
      - Skip this many records first (for paging).
    type: int
    default: 0
'''
