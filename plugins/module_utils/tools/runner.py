# -*- coding: utf-8 -*-
# Copyright: (c) 2026, tidbops.manager contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Runs external commands so that secrets never reach argv, logs or results.

Secrets go to the child through environment variables or through 0600 files in a private
0700 directory that is removed when the command ends. Everything the runner returns
(the command line, stdout, stderr) has every secret value replaced by a mask, and a
secret found in argv is refused before anything runs: ``ps`` shows argv to every user.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os
import shutil
import tempfile

MASK = "********"


class CommandResult(object):
    def __init__(self, cmd, rc, stdout, stderr):
        self.cmd = cmd
        self.rc = rc
        self.stdout = stdout
        self.stderr = stderr

    def as_dict(self):
        return dict(cmd=self.cmd, rc=self.rc, stdout=self.stdout, stderr=self.stderr)


def mask_secrets(text, secrets):
    """Replace every non-empty secret in text (str or list of str) by MASK."""
    if isinstance(text, (list, tuple)):
        return [mask_secrets(item, secrets) for item in text]
    if not text:
        return text
    for secret in secrets:
        if secret:
            text = text.replace(secret, MASK)
    return text


class CommandRunner(object):
    """Wraps AnsibleModule.run_command with the secret-handling rules above."""

    def __init__(self, module):
        self.module = module
        self.history = []

    def run(self, argv, env=None, secret_env=None, secret_files=None, cwd=None, data=None, argv_secrets=None,
            secret_dir=None):
        """Run argv (a list). Returns a CommandResult with secrets masked.

        env: extra non-secret environment variables.
        secret_env: environment variables whose values are secrets.
        secret_files: {placeholder: (file_name, content)}; each content is written to a
            0600 file and every occurrence of placeholder in argv and env is replaced by
            that file's path (the path is not secret, the content is). The files are removed
            when the command ends.
        secret_dir: the 0700 directory the secret files go to (a job's own directory, where
            a re-run or a later job finds and removes what a killed run left); by default a
            private temporary directory.
        argv_secrets: one-time credentials made for this command alone, for tools that take
            a password only on their command line (Dumpling); allowed in argv, masked in
            everything returned. Never a user's real password.
        """
        secret_env = dict(secret_env or {})
        secret_files = dict(secret_files or {})
        secrets = [v for v in secret_env.values() if v]
        secrets += [content for _name, content in secret_files.values() if content]
        argv = [str(a) for a in argv]
        for arg in argv:
            if any(secret in arg for secret in secrets):
                raise ValueError("refusing to put a secret on a command line")
        secrets += [s for s in argv_secrets or [] if s]

        private_dir, written = None, []
        try:
            environ = dict(env or {})
            if secret_files and not secret_dir:
                private_dir = tempfile.mkdtemp(prefix="tidbops-")
                os.chmod(private_dir, 0o700)
            for placeholder, (file_name, content) in secret_files.items():
                path = os.path.join(secret_dir or private_dir, file_name)
                if os.path.lexists(path):
                    os.unlink(path)  # what a killed run of the same job left
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
                written.append(path)
                with os.fdopen(fd, "w") as handle:
                    handle.write(content)
                argv = [a.replace(placeholder, path) for a in argv]
                environ = dict((k, v.replace(placeholder, path)) for k, v in environ.items())
            environ.update(secret_env)
            rc, stdout, stderr = self.module.run_command(
                argv, environ_update=environ, cwd=cwd, data=data, binary_data=data is not None)
        finally:
            for path in written:
                if os.path.lexists(path):
                    os.unlink(path)
            if private_dir:
                shutil.rmtree(private_dir, ignore_errors=True)

        result = CommandResult(
            " ".join(mask_secrets(argv, secrets)), rc,
            mask_secrets(stdout, secrets), mask_secrets(stderr, secrets))
        self.history.append(result.cmd)
        return result
