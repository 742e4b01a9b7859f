"""No input, however malformed, makes a module show a secret: every module is run with every
integer and boolean option of the wrong type, and with each dict option (and its sub-options)
malformed, while distinctive secrets are set; stdout at -vvv, stderr, the Ansible log and the
registered results are searched for them."""
import json
import os
import subprocess
import sys

import yaml

from ansible_collections.tidbops.manager.plugins.module_utils.specs import secret_names
from tests.conftest import REPO_ROOT
from tests.integration.test_packaging import MODULES

WRONG = {"int": "fast", "bool": "maybe", "dict": "yes", "list": {"not": "a list"}}
# A module's own no_log options, beside the blocks' (secret_names()).
OWN_SECRETS = ("password",)


def module_docs(env):
    shown = subprocess.run([os.path.join(os.path.dirname(sys.executable), "ansible-doc"), "--json"]
                           + ["tidbops.manager." + m for m in MODULES], env=env, check=True, capture_output=True,
                           text=True)
    return dict((name.rpartition(".")[2], doc["doc"]["options"]) for name, doc in json.loads(shown.stdout).items())


def secrets_of(options):
    """The secret values given to a module: its secret options' and its dict options' secret sub-options'."""
    found = dict((name, "Leak-%s-7Qz" % name.replace("_", "")) for name in options
                 if name in secret_names() or name in OWN_SECRETS)
    for name, option in options.items():
        for sub in (option.get("suboptions") or {}) if option.get("type") == "dict" else ():
            if sub in OWN_SECRETS:
                found["%s.%s" % (name, sub)] = "Leak-%s%s-7Qz" % (name.replace("_", ""), sub)
    return found


def tasks_for(module, options):
    secrets = dict((name, value) for name, value in secrets_of(options).items() if "." not in name)
    wrong_scalars = dict((name, WRONG[o.get("type")]) for name, o in options.items()
                         if o.get("type") in ("int", "bool") and name not in secrets)
    yield "%s scalars" % module, dict(secrets, **wrong_scalars)
    for name, option in options.items():
        if option.get("type") == "dict" and name not in secrets:
            yield "%s %s" % (module, name), dict(secrets, **{name: WRONG["dict"]})
            # a secret sub-option (a sink's password) is given beside the malformed one
            subs = option.get("suboptions") or {}
            sub_secrets = dict((sub, "Leak-%s%s-7Qz" % (name.replace("_", ""), sub)) for sub in subs if sub in OWN_SECRETS)
            for sub, sub_option in subs.items():
                if sub_option.get("type") in WRONG and sub not in sub_secrets:
                    yield "%s %s.%s" % (module, name, sub), dict(secrets, **{name: dict(sub_secrets, **{
                        sub: WRONG[sub_option["type"]]})})
        elif option.get("type") == "list" and name not in secrets:
            yield "%s %s" % (module, name), dict(secrets, **{name: WRONG["list"]})


def test_no_malformed_input_shows_a_secret(ansible_env, tmp_path):
    env = dict(ansible_env, ANSIBLE_STDOUT_CALLBACK="default", ANSIBLE_LOG_PATH=str(tmp_path / "ansible.log"))
    env.pop("ANSIBLE_CALLBACK_PLUGINS", None)
    docs = module_docs(env)
    tasks, secrets = [], set()
    for module in MODULES:
        secrets.update(secrets_of(docs[module]).values())
        for index, (name, args) in enumerate(tasks_for(module, docs[module])):
            register = "r_%s_%d" % (module, index)
            tasks.append({"name": name, "tidbops.manager." + module: args, "register": register,
                          "ignore_errors": True})
            tasks.append({"name": "show " + name, "ansible.builtin.debug": {"var": register}})
    assert len(secrets) >= 5 and len(tasks) >= 4 * len(MODULES)
    path = tmp_path / "malformed.yml"
    path.write_text(yaml.safe_dump([dict(hosts="localhost", gather_facts=False, tasks=tasks)]))
    run = subprocess.run([os.path.join(os.path.dirname(sys.executable), "ansible-playbook"), "-vvv",
                          "-i", "localhost,", "-c", "local", str(path)], env=env, cwd=REPO_ROOT,
                         capture_output=True, text=True, timeout=900, check=False)
    assert run.stdout.count("INVALID_ARGUMENT") >= len(tasks) // 2, run.stdout[-3000:]
    with open(tmp_path / "ansible.log") as log:
        shown = run.stdout + run.stderr + log.read()
    leaked = sorted(s for s in secrets if s in shown)
    assert not leaked, leaked
