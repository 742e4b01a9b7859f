# -*- coding: utf-8 -*-
# Copyright: (c) 2026, tidbops.manager contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What a restore restores, and how its record is named: a restore is keyed by the backup
and the scope (databases or tables) it restored, so another scope of the same backup is
another restore, and a repeat is a no-op only while what it restored is still there."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import hashlib

from ansible_collections.tidbops.manager.plugins.module_utils.errors import TidbOpsError


def _lower(names):
    return set(name.lower() for name in names)


def restore_id(backup_id, cluster, databases=None, tables=None):
    """The id of the restore of that scope of the backup into the cluster."""
    name = "%s-to-%s" % (backup_id or "path", cluster)
    scope = ["table:" + t for t in tables or []] or ["database:" + d for d in databases or []]
    if scope:
        name += "-" + hashlib.sha256("\n".join(sorted(_lower(scope))).encode("utf-8")).hexdigest()[:10]
    return name


def held_tables(backup):
    """The 'db.table' names a backup record says it holds (its checksums, else its table scope),
    or None when the record does not tell."""
    return sorted(backup.get("checksums") or {}) or list(backup.get("tables") or []) or None


def check_scope(backup, databases=None, tables=None):
    """RESTORE_SCOPE_NOT_IN_BACKUP when the databases or tables to restore name something the
    backup does not hold (BR would restore nothing and call it a success). A backup whose
    record does not tell what it holds is not checked."""
    held = held_tables(backup)
    schemas = _lower(t.split(".", 1)[0] for t in held) if held else _lower(backup.get("databases") or [])
    if tables and held:
        missing = [t for t in tables if t.lower() not in _lower(held)]
    elif tables and schemas:
        missing = [t for t in tables if t.split(".", 1)[0].lower() not in schemas]
    elif databases and schemas:
        missing = [d for d in databases if d.lower() not in schemas]
    else:
        missing = []
    if missing:
        raise TidbOpsError("RESTORE_SCOPE_NOT_IN_BACKUP", "backup %s holds nothing of %s; nothing was restored"
                           % (backup.get("id") or "at that path", ", ".join(missing)), missing=missing)


def restored_objects(backup, databases=None, tables=None):
    """(tables, databases) whose presence shows that a finished restore's data is still there:
    the tables restored when known, else the databases; (None, None) when nothing is known."""
    if tables:
        return list(tables), None
    held = held_tables(backup)
    if held and databases:
        return [t for t in held if t.split(".", 1)[0].lower() in _lower(databases)], None
    if held:
        return held, None
    if databases or backup.get("databases"):
        return None, list(databases or backup.get("databases"))
    return None, None
