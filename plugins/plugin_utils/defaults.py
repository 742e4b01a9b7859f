# -*- coding: utf-8 -*-
# Copyright: (c) 2026, tidbops.manager contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Which shared options module_defaults may hand a module that does not take them.

``module_defaults: group/tidbops.manager.all`` gives every option of the group's defaults to
every module of the group, and a module refuses an option it does not know. A module of this
collection takes only the option blocks it uses (module_utils/specs.py), named by the doc
fragments it extends. So the options of the other blocks, when they come from module_defaults,
are dropped on the controller before the module runs. A foreign option written on the task
itself, and not set by module_defaults, still reaches the module, which refuses it (the
arguments an action sees are already merged with the defaults, so a name set in both is
dropped).

Controller-side only: nothing here runs on a managed node.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os

from ansible.errors import AnsibleError
from ansible.module_utils.common.collections import is_sequence
from ansible.module_utils.six import string_types
from ansible.parsing.plugin_docs import read_docstring

from ansible_collections.tidbops.manager.plugins.module_utils.specs import BLOCKS, block_names

COLLECTION = "tidbops.manager."
MODULES_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "modules")


def module_options(module_name, modules_dir=MODULES_DIR):
    """(the option blocks the module takes: the collection's fragments its DOCUMENTATION
    extends, the names of its own options and their aliases)."""
    path = os.path.join(modules_dir, module_name + ".py")
    doc = read_docstring(path, verbose=False)["doc"]
    if not doc:
        # Without it every block would look foreign and module_defaults' logins would be dropped
        # silently; read_docstring answers None for a DOCUMENTATION that is not valid YAML.
        raise AnsibleError("tidbops.manager.%s: its DOCUMENTATION (%s) cannot be read as YAML, so the options "
                           "module_defaults may give it are unknown" % (module_name, path))
    fragments = doc.get("extends_documentation_fragment") or []
    if isinstance(fragments, string_types):
        fragments = [fragments]
    names = [f[len(COLLECTION):] for f in fragments if f.startswith(COLLECTION)]
    own = set()
    for name, option in (doc.get("options") or {}).items():
        own.add(name)
        own.update(option.get("aliases") or ())
    return set(name for name in names if name in BLOCKS), own


def foreign_options(blocks, own=()):
    """The shared options of every block the module does not take, less the module's own
    options of the same name (dm_task's wait is not the transfer block's)."""
    foreign, taken = set(), set(own)
    for block in BLOCKS:
        (taken if block in blocks else foreign).update(block_names(block))
    return foreign - taken


def defaulted_names(module_defaults, template):
    """Every option name module_defaults sets, for any module or group (template resolves an
    entry given as a template, such as "{{ tidbops_defaults }}")."""
    names = set()
    entries = module_defaults if is_sequence(module_defaults) else [module_defaults]
    for entry in entries:
        if not isinstance(entry, dict):
            continue
        for value in entry.values():
            if isinstance(value, string_types):
                value = template(value)
            if isinstance(value, dict):
                names.update(value)
    return names


def without_foreign_defaults(args, module, defaulted):
    """args less the options of blocks the module does not take that module_defaults supplied;
    module is the (blocks, own option names) pair of module_options()."""
    dropped = foreign_options(*module) & defaulted
    return dict((key, value) for key, value in args.items() if key not in dropped)
