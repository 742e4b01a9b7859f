# -*- coding: utf-8 -*-
# Copyright: (c) 2026, tidbops.manager contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type


class ModuleDocFragment(object):
    # Where tiup and its clusters' metadata are (module_utils/specs.py tiup_options).
    DOCUMENTATION = r'''
options:
  tiup_path:
    description:
      - Path of the C(tiup) binary, for the modules that run tiup. By default C(tiup) is looked up on E(PATH).
    type: path
  tiup_home:
    description:
      - The TiUP home directory (sets E(TIUP_HOME) for tiup), which holds the clusters' metadata.
      - By default tiup's own default applies (E(TIUP_HOME) if set, else C(~/.tiup)).
      - Modules that work on a cluster by name (backup, restore, GC, export, import) read its topology from here,
        as a file, to find its TiDB and PD servers when no login is given.
    type: path
requirements:
  - tiup (with the cluster component) on the managed node, for the modules that run it
'''
