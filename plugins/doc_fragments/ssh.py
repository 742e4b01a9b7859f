# -*- coding: utf-8 -*-
# Copyright: (c) 2026, tidbops.manager contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type


class ModuleDocFragment(object):
    # How tiup reaches the cluster's hosts (module_utils/specs.py ssh_options).
    DOCUMENTATION = r'''
options:
  ssh_user:
    description:
      - The SSH user tiup connects to the cluster's hosts as (C(tiup cluster deploy --user)).
    type: str
  ssh_identity_file:
    description:
      - The SSH private key for O(ssh_user) (C(--identity_file)). tiup needs a key, a password or
        an ssh-agent to reach the hosts.
    type: path
'''
