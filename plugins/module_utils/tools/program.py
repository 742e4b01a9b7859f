# -*- coding: utf-8 -*-
# Copyright: (c) 2026, tidbops.manager contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""How Dumpling and TiDB Lightning are found and pointed at storage.

A tool is either a binary (dumpling_path/lightning_path) or a tiup component
(``tiup dumpling[:version]``), as TiUniManager ran them. S3 locations are handed over as URLs
carrying only the endpoint and addressing style; the keys travel in the standard AWS
environment variables, which both tools read through the AWS SDK's default chain.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os
import threading

from ansible.module_utils.six.moves.urllib.parse import quote, urlencode

from ansible_collections.tidbops.manager.plugins.module_utils.errors import TidbOpsError
from ansible_collections.tidbops.manager.plugins.module_utils.storage.location import parse_location
from ansible_collections.tidbops.manager.plugins.module_utils.tools.runner import CommandRunner
from ansible_collections.tidbops.manager.plugins.module_utils.tools.tiup import Tiup


class Tool(object):
    """A command prefix (argv) and the environment it needs, run through the CommandRunner
    (secrets kept off the command line)."""

    def __init__(self, module, argv, env):
        self.module = module
        self.argv = list(argv)
        self.env = dict(env)

    def run(self, args, location_env=(None, None), **options):
        """Run the tool with args; location_env is the (env, secret env) pair of tool_location()."""
        env, secret_env = location_env
        env = dict(env or {})
        env.update(self.env)
        return CommandRunner(self.module).run(self.argv + list(args), env=env, secret_env=secret_env, **options)


def find_tool(module, params, component, binary_option):
    """The tool: params[binary_option] if set, else ``tiup <component>[:tool_version]``."""
    binary = params.get(binary_option)
    if binary:
        if not (os.path.isfile(binary) and os.access(binary, os.X_OK)):
            raise TidbOpsError("INVALID_ARGUMENT", "%s %s is not an executable file" % (binary_option, binary))
        return Tool(module, [binary], {})
    tiup = Tiup(module, params.get("tiup_path"), params.get("tiup_home"))
    spec = component + (":" + params["tool_version"] if params.get("tool_version") else "")
    return Tool(module, [tiup.path, spec], {"TIUP_HOME": params["tiup_home"]} if params.get("tiup_home") else {})


def tool_location(location, params):
    """(the URL or path a tool gets, non-secret env, secret env) for a local path or s3:// URL."""
    parsed = parse_location(location)
    if parsed[0] == "local":
        return parsed[1], {}, {}
    bucket, prefix = parsed[1], parsed[2]
    url = "s3://%s/%s" % (bucket, prefix) if prefix else "s3://%s" % bucket
    query = []
    if params.get("s3_endpoint"):
        query += [("endpoint", params["s3_endpoint"]), ("force-path-style", "true")]
    if params.get("s3_region"):
        query.append(("region", params["s3_region"]))
    env = {"AWS_DEFAULT_REGION": params["s3_region"]} if params.get("s3_region") else {}
    secret_env = {}
    for option, variable in (("s3_access_key", "AWS_ACCESS_KEY_ID"), ("s3_secret_key", "AWS_SECRET_ACCESS_KEY"),
                             ("s3_session_token", "AWS_SESSION_TOKEN")):
        if params.get(option):
            secret_env[variable] = params[option]
    if query:
        url += "?" + urlencode(query, quote_via=quote, safe=":/")
    return url, env, secret_env


def last_line_with(text, *markers):
    """The last line of text holding one of markers (stripped), or None."""
    for line in reversed((text or "").splitlines()):
        if any(marker in line for marker in markers):
            return line.strip()
    return None


def processes_with_argument(argument):
    """The pids of the processes whose command line has argument as one of its words: a tool a
    killed module left running, found by a file of its job (Lightning's --config path)."""
    wanted, pids = argument.encode("utf-8"), []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open("/proc/%s/cmdline" % entry, "rb") as handle:
                words = handle.read().split(b"\0")
        except (IOError, OSError):
            continue  # gone meanwhile, or not ours to read
        if wanted in words:
            pids.append(int(entry))
    return sorted(pids)


def read_text(path):
    """A tool's log file, or '' when it is not there (the tool failed before writing it)."""
    try:
        with open(path, "r") as handle:
            return handle.read()
    except (IOError, OSError):
        return ""


class LogWatcher(object):
    """Follows a tool's log file while the tool runs (at short, growing intervals) and calls
    on_change(matches) whenever the set of pattern matches in it grows: how a long Lightning run
    reports its progress to the record."""

    def __init__(self, path, pattern, on_change, first_interval=0.5, max_interval=10.0):
        self.path, self.pattern, self.on_change = path, pattern, on_change
        self.first_interval, self.max_interval = first_interval, max_interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run)
        self._thread.daemon = True
        self._seen = set()

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc_info):
        self._stop.set()
        self._thread.join()
        self._check()  # what the last lines said

    def _check(self):
        found = set(self.pattern.findall(read_text(self.path)))
        if found - self._seen:
            self._seen |= found
            try:
                self.on_change(sorted(self._seen))
            except Exception:  # pylint: disable=broad-except
                pass  # progress is best effort; the job's own outcome decides

    def _run(self):
        interval = self.first_interval
        while not self._stop.wait(interval):
            self._check()
            interval = min(interval * 2, self.max_interval)
