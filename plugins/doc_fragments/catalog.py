# -*- coding: utf-8 -*-
# Copyright: (c) 2026, tidbops.manager contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type


class ModuleDocFragment(object):
    # Where the collection keeps its records and locks (module_utils/specs.py catalog_options).
    DOCUMENTATION = r'''
options:
  catalog:
    description:
      - Where the collection keeps its records (backups, restores, strategies, GC holds) and
        locks, one JSON document each, never holding a secret.
      - An absolute directory (local or NFS, shared by the hosts that run the jobs) or an
        V(s3://bucket/prefix) URL.
      - Required by the modules that keep records. An V(s3://) catalog takes the O(s3_endpoint) and credentials.
    type: str
'''
