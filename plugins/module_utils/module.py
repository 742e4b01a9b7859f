# -*- coding: utf-8 -*-
# Copyright: (c) 2026, tidbops.manager contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The module class of the collection: AnsibleModule whose own argument checks fail with an
error code too.

AnsibleModule refuses bad arguments (a wrong type, an unknown option, mutually_exclusive,
required_if, a choice not offered, sub-options) while it is constructed, with a message only.
Here those failures carry ``error_code: INVALID_ARGUMENT`` like every other failure of the
collection, so a playbook can match on the code whatever refused the input. The message is
masked as every result is: no_log values (passwords, keys) never appear in it.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible.module_utils.basic import AnsibleModule


class TidbOpsModule(AnsibleModule):

    def __init__(self, *args, **kwargs):
        # Everything AnsibleModule refuses while it is constructed is about the arguments.
        self._checking_arguments = True
        super(TidbOpsModule, self).__init__(*args, **kwargs)
        self._checking_arguments = False

    def fail_json(self, msg, **kwargs):  # pylint: disable=arguments-differ
        if getattr(self, "_checking_arguments", False):
            kwargs.setdefault("error_code", "INVALID_ARGUMENT")
        super(TidbOpsModule, self).fail_json(msg=msg, **kwargs)
