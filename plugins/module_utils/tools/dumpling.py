# -*- coding: utf-8 -*-
# Copyright: (c) 2026, tidbops.manager contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Dumpling: its command line, the account it logs in with, and what its output means.

Dumpling takes a password only from ``-p/--password``: it reads no environment variable and
no option file (pingcap/tidb#70907; the MYSQL_PWD pull request #70908 was closed unmerged),
and ``ps`` shows every process's argv to every local user. TiUniManager passed the user's own
password there and leaked it into its logs. So the user's password never goes to Dumpling:
Dumpling logs in as a one-time account made for this job, with a random password, only the
privileges a dump needs, and dropped when the job ends (or when a re-run of a job that died
finds it left over). The one-time password is masked in everything the module returns.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import contextlib
import hashlib
import re
import secrets

from ansible_collections.tidbops.manager.plugins.module_utils.errors import TidbOpsError
from ansible_collections.tidbops.manager.plugins.module_utils.tools.runner import mask_secrets
from ansible_collections.tidbops.manager.plugins.module_utils.tools.sql import run_sql
from ansible_collections.tidbops.manager.plugins.module_utils.tools.program import last_line_with

# What dumpling needs (docs: "Required privileges"): SELECT, RELOAD, LOCK TABLES,
# REPLICATION CLIENT and PROCESS; SHOW VIEW for views.
DUMP_PRIVILEGES = "SELECT, RELOAD, LOCK TABLES, REPLICATION CLIENT, PROCESS, SHOW VIEW"
SUCCESS = "dump data successfully"
ACCOUNT_PREFIX = "tidbops_dump_"
ROWS_RE = re.compile(r"\[total[-_]rows=(\d+)\]")


def account_name(job):
    """The one-time account of a job: the same for every run of that job (so a re-run finds
    one left by a job that died), at most 32 characters (TiDB's user name limit)."""
    return ACCOUNT_PREFIX + hashlib.sha256(job.encode("utf-8")).hexdigest()[:16]


def drop_account(connection, user):
    run_sql(connection, "DROP USER IF EXISTS %s@'%%'", (user,))


def drop_stale_accounts(connection, keep):
    """Drop the one-time accounts (tidbops_dump_*) of exports that no longer run (killed before
    they could drop theirs); keep names those of exports running now. Returns the dropped.
    A login that may not read mysql.user drops nothing here (each job still drops its own)."""
    try:
        rows, _count, _warnings = run_sql(connection, "SELECT User AS user FROM mysql.user WHERE User LIKE %s",
                                          (ACCOUNT_PREFIX.replace("_", "\\_") + "%",))
    except TidbOpsError:
        return []
    dropped = []
    for user in sorted(set(r["user"].decode("utf-8") if isinstance(r["user"], bytes) else r["user"] for r in rows or [])):
        if user.startswith(ACCOUNT_PREFIX) and user not in keep:
            drop_account(connection, user)
            dropped.append(user)
    return dropped


@contextlib.contextmanager
def one_time_account(connection, job):
    """Yield (user, password) of a fresh account with DUMP_PRIVILEGES; drop it afterwards."""
    user = account_name(job)
    password = secrets.token_urlsafe(24)
    try:
        drop_account(connection, user)
        run_sql(connection, "CREATE USER %s@'%%' IDENTIFIED BY %s", (user, password))
        run_sql(connection, "GRANT %s ON *.* TO %%s@'%%%%'" % DUMP_PRIVILEGES, (user,))
    except TidbOpsError as error:
        try:
            drop_account(connection, user)
        except TidbOpsError:
            pass
        raise TidbOpsError("EXPORT_ACCOUNT_FAILED", "Cannot create the one-time account %s that Dumpling logs in "
                           "with (so that no real password reaches its command line): %s. login_user needs CREATE "
                           "USER and the privileges %s WITH GRANT OPTION." % (user, error.msg, DUMP_PRIVILEGES),
                           account=user, sql_errno=error.details.get("sql_errno"))
    try:
        yield user, password
    finally:
        drop_account(connection, user)


def dumpling_argv(params, output, user, password, log_file):
    """Dumpling's flags for the module's options (tools.md §3 names)."""
    argv = ["-h", params["login_host"], "-P", str(params["login_port"]), "-u", user, "-p", password,
            "-o", output, "--filetype", params["file_type"], "-t", str(params["threads"]),
            "-F", params["file_size"], "-L", log_file, "--loglevel", "info"]
    if params["rows"]:
        argv += ["-r", str(params["rows"])]
    for rule in params["filter"] or []:
        argv += ["-f", rule]
    if params["sql"]:
        argv += ["--sql", params["sql"]]
    if params["where"]:
        argv += ["--where", params["where"]]
    if params["compress"]:
        argv += ["-c", params["compress"]]
    if params["consistency"]:
        argv += ["--consistency", params["consistency"]]
    if params["snapshot"]:
        argv += ["--snapshot", params["snapshot"]]
    for option, flag in (("ca_cert", "--ca"), ("client_cert", "--cert"), ("client_key", "--key")):
        if params.get(option):
            argv += [flag, params[option]]
    return argv


def check_options(params):
    """INVALID_ARGUMENT for combinations Dumpling refuses, before anything runs."""
    if params["sql"] and params["file_type"] != "csv":
        raise TidbOpsError("INVALID_ARGUMENT", "sql exports only as csv (Dumpling's --sql), not as %s"
                           % params["file_type"])
    if params["sql"] and params["filter"]:
        raise TidbOpsError("INVALID_ARGUMENT", "sql and filter cannot be used together: sql names what to export")
    if params["sql"] and params["where"]:
        raise TidbOpsError("INVALID_ARGUMENT", "where cannot be used with sql (Dumpling refuses --where with --sql)")
    if not re.match(r"^\d+(\.\d+)?\s*([KMGT]i?B|[KMGT]i?|B)?$", params["file_size"], re.I):
        raise TidbOpsError("INVALID_ARGUMENT", "file_size %r is not a size such as 256MiB" % params["file_size"])


def outcome(result, log_text, secrets_to_mask):
    """The number of rows dumped, or EXPORT_FAILED with Dumpling's own words (masked)."""
    text = (result.stdout or "") + "\n" + (result.stderr or "")
    if result.rc != 0 or SUCCESS not in (log_text or "") + text:
        why = last_line_with(text, "dump failed", "create dumper failed", "parse arguments failed", "panic:",
                             "unknown flag", "Error") or text.strip()[-2000:]
        raise TidbOpsError("EXPORT_FAILED", "Dumpling failed (exit %s): %s" % (result.rc, mask_secrets(why, secrets_to_mask)),
                           rc=result.rc, cmd=result.cmd, stdout=result.stdout[-4000:], stderr=result.stderr[-4000:])
    found = ROWS_RE.findall((log_text or "") + text)
    return int(found[-1]) if found else None
