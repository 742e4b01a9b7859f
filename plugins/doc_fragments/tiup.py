# -*- coding: utf-8 -*-
# Copyright: (c) 2026, tidbops.manager contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type


class ModuleDocFragment(object):
    # Where to find tiup (module_utils/tiup.py tiup_argument_spec).
    DOCUMENTATION = r'''
options:
  tiup_path:
    description:
      - Path of the C(tiup) binary. By default C(tiup) is looked up on E(PATH).
    type: path
  tiup_home:
    description:
      - The TiUP home directory (sets E(TIUP_HOME) for tiup), which holds the clusters' metadata.
      - By default tiup's own default applies (E(TIUP_HOME) if set, else C(~/.tiup)).
    type: path
  ssh_user:
    description:
      - The SSH user tiup connects to the cluster's hosts as (C(tiup cluster deploy --user)).
    type: str
  ssh_identity_file:
    description:
      - The SSH private key for O(ssh_user) (C(--identity_file)). tiup needs a key, a password or
        an ssh-agent to reach the hosts.
    type: path
requirements:
  - tiup (with the cluster component) on the managed node, for the modules that run it
notes:
  - Every module of the collection accepts these options, so that C(module_defaults) with the group
    C(group/tidbops.manager.all) can set them once; a module that does not run tiup ignores them.
'''
