# -*- coding: utf-8 -*-
# Copyright: (c) 2026, tidbops.manager contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The kinds of record the catalog holds (``records/<kind>/<id>.json``), spelled once.

A kind names a directory of the catalog that other jobs, hosts and AWX runs read: it is
never renamed once released."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

BACKUP = "backup"          # backup/records.py
RESTORE = "restore"        # tidb_restore
STRATEGY = "strategy"      # backup/schedule.py, tidb_backup_strategy
GC_HOLD = "gc-hold"        # tidb_gc
TRANSFER = "transfer"      # transfer/records.py (imports and exports)
CANCEL = "cancel"          # backup/records.py: a cancel asked of a running backup

ALL = (BACKUP, RESTORE, STRATEGY, GC_HOLD, TRANSFER, CANCEL)
