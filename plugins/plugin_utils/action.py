# -*- coding: utf-8 -*-
# Copyright: (c) 2026, tidbops.manager contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The action every module of the collection runs through: the builtin normal action, after
the shared options the module does not take have been taken out of what module_defaults gave
(see defaults.py). Each module has a one-line action plugin of its own name that is this class,
because ansible-core looks an action plugin up by the module's name."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible.plugins.action.normal import ActionModule as NormalAction

from ansible_collections.tidbops.manager.plugins.plugin_utils.defaults import (
    defaulted_names, module_options, without_foreign_defaults)


class ModuleAction(NormalAction):

    def module_name(self):
        action = getattr(self._task, "resolved_action", None) or self._task.action
        return action.rpartition(".")[2]

    def filter_defaults(self):
        """Drop what module_defaults gave that the module does not take (before anything runs)."""
        defaulted = defaulted_names(self._task.module_defaults, self._templar.template)
        if defaulted:
            self._task.args = without_foreign_defaults(self._task.args, module_options(self.module_name()), defaulted)

    def run(self, tmp=None, task_vars=None):
        self.filter_defaults()
        return super(ModuleAction, self).run(tmp, task_vars)
