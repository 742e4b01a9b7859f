# -*- coding: utf-8 -*-
# Copyright: (c) 2026, tidbops.manager contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Runs the tidb_cluster_info module with module_defaults' foreign options dropped (plugin_utils/action.py)."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible_collections.tidbops.manager.plugins.plugin_utils.action import ModuleAction as ActionModule  # noqa: F401
