# -*- coding: utf-8 -*-
# Copyright: (c) 2026, tidbops.manager contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type


class ModuleDocFragment(object):
    # The cluster lock a job holds while it runs (module_utils/specs.py lock_options).
    DOCUMENTATION = r'''
options:
  lock_ttl:
    description:
      - Seconds after which the cluster's lock taken by this job counts as stale.
      - A lock whose holder is provably gone (a process of the same host that no longer runs,
        or whose pid now belongs to another process) is taken over at once, whatever its age.
    type: int
    default: 86400
  break_lock:
    description:
      - Take the cluster's lock even when another job holds it, for a holder that cannot be
        checked from here (another host) and is known to be gone. The new lock names the one it
        replaced, and the result returns it as RV(replaced_lock).
      - Never needed for a job of this host that was killed.
    type: bool
    default: false
'''
