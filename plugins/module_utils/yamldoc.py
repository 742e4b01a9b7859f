# -*- coding: utf-8 -*-
# Copyright: (c) 2026, tidbops.manager contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""PyYAML, imported once for the modules that read or show YAML (TidbOpsModule(requires_yaml=True)
fails with MISSING_LIBRARY when it is absent)."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible_collections.tidbops.manager.plugins.module_utils.errors import TidbOpsError

try:
    import yaml
    HAS_YAML = True
    YAMLError = yaml.YAMLError
except ImportError:
    yaml = None
    HAS_YAML = False
    YAMLError = ValueError


def load(text):
    """A YAML document (a string or an open file) as data."""
    return yaml.safe_load(text)


def load_file(path, code, option):
    """The YAML file named by an option, as data; unreadable or invalid YAML fails with the code."""
    try:
        with open(path) as handle:
            return yaml.safe_load(handle)
    except (IOError, OSError) as exc:
        raise TidbOpsError(code, "cannot read %s %s: %s" % (option, path, exc))
    except yaml.YAMLError as exc:
        raise TidbOpsError(code, "%s %s is not valid YAML: %s" % (option, path, exc))


def dump(data, sort_keys=True):
    """Data as a block-style YAML document; empty data gives an empty text (for diffs)."""
    if not data:
        return ""
    return yaml.safe_dump(data, default_flow_style=False, sort_keys=sort_keys)
