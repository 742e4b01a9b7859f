# -*- coding: utf-8 -*-
# Copyright: (c) 2026, tidbops.manager contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Sends tidb_import's archive from the controller to the managed node, then runs the module.

TiUniManager's file server took uploads of at most 2 GB; here the size is checked on the
controller before a byte is sent, and the copy lives in the connection's temporary directory
only while the module runs (the module unpacks it into the job's working directory)."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os

from ansible.errors import AnsibleError
from ansible.module_utils.parsing.convert_bool import boolean
from ansible.plugins.action import ActionBase

from ansible_collections.tidbops.manager.plugins.plugin_utils.action import ModuleAction

DEFAULT_MAX_FILE_SIZE = 2 * 1024 * 1024 * 1024


class ActionModule(ModuleAction):

    TRANSFERS_FILES = True

    def run(self, tmp=None, task_vars=None):
        self.filter_defaults()
        result = ActionBase.run(self, tmp, task_vars)  # not the normal action's: this one sends the archive
        del tmp  # tmp no longer has any effect
        try:
            result.update(self._run(dict(self._task.args), task_vars))
        finally:
            self._remove_tmp_path(self._connection._shell.tmpdir)
        return result

    def _run(self, args, task_vars):
        archive = args.get("archive")
        if not archive or boolean(args.get("remote_src", False), strict=False):
            return self._execute_module(module_args=args, task_vars=task_vars)
        try:
            local = self._find_needle("files", archive)
        except AnsibleError as exc:
            return dict(failed=True, error_code="IMPORT_SOURCE_INVALID",
                        msg="archive %s was not found on the controller: %s" % (archive, exc))
        try:
            limit = int(args.get("max_file_size") or DEFAULT_MAX_FILE_SIZE)
        except (TypeError, ValueError):
            # Not a number: the module refuses it with INVALID_ARGUMENT before anything is sent.
            return self._execute_module(module_args=args, task_vars=task_vars)
        size = os.path.getsize(local)
        if size > limit:
            return dict(failed=True, error_code="TRANSFER_FILE_SIZE_INVALID", size=size, limit=limit,
                        msg="archive %s is %d bytes, over the limit of %d bytes; nothing was sent"
                            % (local, size, limit))
        remote = self._connection._shell.join_path(self._connection._shell.tmpdir, os.path.basename(local))
        self._transfer_file(local, remote)
        self._fixup_perms2((self._connection._shell.tmpdir, remote))
        args.update(archive=remote, remote_src=True)
        return self._execute_module(module_args=args, task_vars=task_vars)
