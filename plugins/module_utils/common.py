# -*- coding: utf-8 -*-
# Copyright: (c) 2026, tidbops.manager contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The options every module of the collection accepts.

``module_defaults: group/tidbops.manager.all`` hands every default to every module of the
group, and a module refuses options it does not know. So each module accepts the shared
connection options (the TiDB SQL login, where tiup is, the catalog and S3 credentials, the
DM-master addresses), and uses those it needs.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible_collections.tidbops.manager.plugins.module_utils.catalog_access import catalog_argument_spec
from ansible_collections.tidbops.manager.plugins.module_utils.dm_api import dm_argument_spec
from ansible_collections.tidbops.manager.plugins.module_utils.tidb import tidb_argument_spec
from ansible_collections.tidbops.manager.plugins.module_utils.tiup import tiup_argument_spec


def common_argument_spec(**module_options):
    """The shared options, plus this module's own."""
    spec = tidb_argument_spec()
    spec.update(tiup_argument_spec())
    spec.update(catalog_argument_spec())
    spec.update(dm_argument_spec())
    spec.update(module_options)
    return spec
