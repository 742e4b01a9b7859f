# -*- coding: utf-8 -*-
# Copyright: (c) 2026, tidbops.manager contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type


class ModuleDocFragment(object):
    # What every module of the collection shares (with ansible.builtin.action_common_attributes,
    # which describes the attributes): it runs on a POSIX managed node.
    DOCUMENTATION = r'''
attributes:
  platform:
    platforms: posix
'''

    # A module that only reads (the *_info modules).
    INFO_MODULE = r'''
attributes:
  check_mode:
    support: full
    details: The module only reads, so check mode runs it as usual.
  diff_mode:
    support: N/A
    details: The module only reads; there is nothing to diff.
'''
