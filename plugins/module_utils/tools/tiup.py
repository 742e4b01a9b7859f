# -*- coding: utf-8 -*-
# Copyright: (c) 2026, tidbops.manager contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The tiup runner: finds tiup, runs ``tiup cluster`` with ``--format json --yes`` and turns
its output (JSON log lines or display's indented JSON on stdout, the ``{"exit_code":…}``
trailer on stderr) into data or a TidbOpsError with a specific code."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json
import os
import re

from ansible_collections.tidbops.manager.plugins.module_utils.errors import TidbOpsError
from ansible_collections.tidbops.manager.plugins.module_utils.tools.runner import CommandRunner


# tiup's error texts (pkg/cluster/manager, spec) mapped to our codes; first match wins.
ERROR_PATTERNS = (
    # display says "Cluster x not found"; start/stop/restart/destroy say "tidb cluster `x` not exists".
    (re.compile(r"Cluster .* not found|cluster .* (does )?not exists?\b", re.I), "CLUSTER_NOT_FOUND"),
    (re.compile(r"port conflict|directory conflict|topology|yaml|unknown field|"
                r"field .* not found|invalid .*(host|port)", re.I), "CLUSTER_TOPOLOGY_INVALID"),
    (re.compile(r"version", re.I), "CLUSTER_VERSION_INVALID"),
)


def parse_json_lines(text):
    """Every line of text that is a JSON object, in order; other lines are skipped."""
    docs = []
    for line in (text or "").splitlines():
        line = line.strip()
        if line.startswith("{") and line.endswith("}"):
            try:
                docs.append(json.loads(line))
            except ValueError:
                continue
    return docs


def parse_trailer(stderr):
    """The ``{"exit_code": N, "error": ...}`` object tiup writes last on stderr, or None."""
    for doc in reversed(parse_json_lines(stderr)):
        if "exit_code" in doc:
            return doc
    return None


def error_text(result, trailer):
    if trailer and trailer.get("error"):
        return trailer["error"]
    messages = [d.get("message", "") for d in parse_json_lines(result.stderr)
                if d.get("level") in ("error", "warn")]
    if messages:
        return "; ".join(messages)
    return (result.stderr or result.stdout or "").strip()[-2000:]


class Tiup(object):
    def __init__(self, module, tiup_path=None, tiup_home=None, runner=None):
        self.module = module
        self.runner = runner or CommandRunner(module)
        self.tiup_home = tiup_home
        self.path = self._find(tiup_path)

    def _find(self, tiup_path):
        if tiup_path:
            if os.path.isfile(tiup_path) and os.access(tiup_path, os.X_OK):
                return tiup_path
            raise TidbOpsError("TIUP_NOT_FOUND", "tiup_path %s is not an executable file" % tiup_path)
        found = self.module.get_bin_path("tiup")
        if not found and self.tiup_home:
            candidate = os.path.join(self.tiup_home, "bin", "tiup")
            if os.access(candidate, os.X_OK):
                found = candidate
        if not found:
            raise TidbOpsError(
                "TIUP_NOT_FOUND",
                "tiup was not found on PATH; install it or set tiup_path "
                "(PATH is %s)" % os.environ.get("PATH", ""))
        return found

    @property
    def executed_commands(self):
        return list(self.runner.history)

    def cluster(self, *args, **kwargs):
        """Run ``tiup cluster ARGS --format json --yes``; return (stdout docs/JSON, result).

        Raises TidbOpsError on a non-zero exit, with a code from ERROR_PATTERNS."""
        failure_code = kwargs.pop("failure_code", "TIUP_COMMAND_FAILED")
        argv = [self.path, "cluster"] + [str(a) for a in args] + ["--format", "json", "--yes"]
        env = {"TIUP_HOME": self.tiup_home} if self.tiup_home else None
        result = self.runner.run(argv, env=env)
        trailer = parse_trailer(result.stderr)
        exit_code = trailer.get("exit_code", result.rc) if trailer else result.rc
        if result.rc != 0 or exit_code != 0:
            text = error_text(result, trailer)
            code = failure_code
            for pattern, candidate in ERROR_PATTERNS:
                if pattern.search(text):
                    code = candidate
                    break
            raise TidbOpsError(code, "tiup cluster %s failed: %s" % (args[0], text),
                               cmd=result.cmd, rc=result.rc, stdout=result.stdout,
                               stderr=result.stderr)
        return result

    def _json_stdout(self, result):
        try:
            return json.loads(result.stdout)
        except ValueError:
            docs = [d for d in parse_json_lines(result.stdout) if "level" not in d]
            if docs:
                return docs[-1]
            raise TidbOpsError("TIUP_OUTPUT_INVALID", "tiup printed no JSON document",
                               cmd=result.cmd, stdout=result.stdout[-2000:])

    # The subcommands the modules use.

    def list_clusters(self):
        return self._json_stdout(self.cluster("list")).get("clusters") or []

    def cluster_exists(self, name):
        return any(c.get("name") == name for c in self.list_clusters())

    def display(self, name, roles=None, nodes=None):
        return self._json_stdout(self.cluster("display", name, *selection_args(roles, nodes)))

    def show_config(self, name):
        result = self.cluster("show-config", name)
        return result.stdout

    def deploy(self, name, version, topology_file, ssh_user=None, identity_file=None):
        args = ["deploy", name, version, topology_file]
        if ssh_user:
            args += ["--user", ssh_user]
        if identity_file:
            args += ["--identity_file", identity_file]
        return self.cluster(*args, failure_code="CLUSTER_DEPLOY_FAILED")

    def start(self, name, roles=None, nodes=None, wait_timeout=None):
        return self.cluster("start", name, *(selection_args(roles, nodes) + timeout_args(wait_timeout)),
                            failure_code="CLUSTER_START_FAILED")

    def stop(self, name, roles=None, nodes=None, wait_timeout=None):
        return self.cluster("stop", name, *(selection_args(roles, nodes) + timeout_args(wait_timeout)),
                            failure_code="CLUSTER_STOP_FAILED")

    def restart(self, name, roles=None, nodes=None, wait_timeout=None):
        return self.cluster("restart", name, *(selection_args(roles, nodes) + timeout_args(wait_timeout)),
                            failure_code="CLUSTER_START_FAILED")

    def edit_config(self, name, topology_file):
        """Replace the topology (only its editable fields may differ). tiup exits 0 also when it
        saved nothing (a file it cannot parse, an immutable field changed): read it back."""
        return self.cluster("edit-config", name, "--topology-file", topology_file,
                            failure_code="CONFIG_PERSIST_FAILED")

    def reload(self, name, roles=None, wait_timeout=None):
        """Write every instance's config files from the topology, restart the roles given."""
        return self.cluster("reload", name, *(selection_args(roles, None) + timeout_args(wait_timeout)),
                            failure_code="CONFIG_RELOAD_FAILED")

    def destroy(self, name, force=False):
        args = ["destroy", name] + (["--force"] if force else [])
        return self.cluster(*args, failure_code="CLUSTER_DESTROY_FAILED")


def selection_args(roles, nodes):
    args = []
    if roles:
        args += ["--role", ",".join(roles)]
    if nodes:
        args += ["--node", ",".join(nodes)]
    return args


def timeout_args(wait_timeout):
    return ["--wait-timeout", str(wait_timeout)] if wait_timeout else []
