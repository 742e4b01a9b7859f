# -*- coding: utf-8 -*-
# Copyright: (c) 2026, tidbops.manager contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible_collections.tidbops.manager.plugins.plugin_utils.action import ModuleAction


class ActionModule(ModuleAction):
    """tidb_config through the collection's action: module_defaults' options of blocks it does not take are dropped."""
