# -*- coding: utf-8 -*-
# Copyright: (c) 2026, tidbops.manager contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The module class of the collection: what every module's main() would otherwise repeat.

- The argument spec is the module's own options plus the option blocks it names (specs.py).
- AnsibleModule refuses bad arguments (a wrong type, an unknown option, mutually_exclusive,
  required_if, a choice not offered, sub-options) while it is constructed, with a message only.
  Here those failures carry ``error_code: INVALID_ARGUMENT`` like every other failure of the
  collection, so a playbook can match on the code whatever refused the input. The message is
  masked as every result is: no_log values (passwords, keys) never appear in it.
- A missing library the module needs (PyYAML) fails with MISSING_LIBRARY before any work.
- ``run(work)`` is the one ending: a TidbOpsError fails with its code and details, a result
  is returned with ``changed`` and ``actions``.
- ``act(name)`` is the one way to do something: it records the action (check mode records what
  would be done) and answers whether to really do it.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.tidbops.manager.plugins.module_utils.errors import TidbOpsError
from ansible_collections.tidbops.manager.plugins.module_utils.specs import argument_spec as build_spec
from ansible_collections.tidbops.manager.plugins.module_utils.specs import ranges as build_ranges
from ansible_collections.tidbops.manager.plugins.module_utils.specs import secret_names


class TidbOpsModule(AnsibleModule):

    def __init__(self, argument_spec, blocks=(), requires_yaml=False, ranges=None, **kwargs):
        # Everything AnsibleModule refuses while it is constructed is about the arguments.
        self._checking_arguments = True
        super(TidbOpsModule, self).__init__(argument_spec=build_spec(blocks, argument_spec), **kwargs)
        self.check_ranges(build_ranges(blocks, ranges))
        self._checking_arguments = False
        self.changed = False
        self.actions = []
        if requires_yaml:
            # Imported here: a module that shows no YAML does not pay for loading PyYAML.
            from ansible_collections.tidbops.manager.plugins.module_utils import yamldoc
            if not yamldoc.HAS_YAML:
                self.fail_json(msg="PyYAML is required on the managed node", error_code="MISSING_LIBRARY")

    def fail_json(self, msg, **kwargs):  # pylint: disable=arguments-differ
        if getattr(self, "_checking_arguments", False):
            kwargs.setdefault("error_code", "INVALID_ARGUMENT")
            self.mask_given_secrets()
        super(TidbOpsModule, self).fail_json(msg=msg, **kwargs)

    def mask_given_secrets(self):
        """Mask, in an argument refusal, every value given to a no_log option: Ansible collects
        the no_log values while it validates, and gives up on all of them when a sub-option is
        malformed (csv: "yes"); and a secret of a block this module does not take (login_password
        given to a dm_ module) is refused as unsupported without any no_log at all."""
        names = secret_names()
        for name, spec in (self.argument_spec or {}).items():
            if spec.get("no_log"):
                names.add(name)
                names.update(spec.get("aliases") or ())
        for name in names:
            self.no_log_values.update(_leaves((self.params or {}).get(name)))

    def check_ranges(self, declared):
        """INVALID_ARGUMENT for an integer option outside its declared (low, high) range; a
        sub-option is named by its path ('copy_from.login_port')."""
        for name, (low, high) in sorted(declared.items()):
            value = self.params
            for part in name.split("."):
                value = value.get(part) if isinstance(value, dict) else None
            if value is not None and not low <= value <= high:
                self.fail_json(msg="%s must be between %d and %d, not %d" % (name, low, high, value))

    def act(self, action):
        """Record an action as done; True when it must really be done (not in check mode)."""
        self.actions.append(action)
        self.changed = True
        return not self.check_mode

    def result(self, **values):
        """The result in the collection's vocabulary: changed, actions, then the module's values."""
        result = dict(changed=self.changed, actions=list(self.actions))
        result.update(values)
        return result

    def run(self, work, *args):
        """Exit with what work(*args) returns, or fail with the code of the TidbOpsError it raises."""
        try:
            result = work(*args)
        except TidbOpsError as error:
            # changed stays false: act() is called before the change, which may not have happened.
            self.fail_json(**error.fail_kwargs())
        if result is None:
            result = self.result()
        self.exit_json(**result)


def _leaves(value):
    """The text of every scalar in a value however nested (a secret given as a list or a dict
    is still masked wherever it shows)."""
    if value is None or value == "":
        return set()
    if isinstance(value, dict):
        value = list(value.values())
    if isinstance(value, (list, tuple, set)):
        found = set()
        for item in value:
            found.update(_leaves(item))
        return found
    return set([str(value)])
