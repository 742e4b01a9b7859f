# -*- coding: utf-8 -*-
# Copyright: (c) 2026, tidbops.manager contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type


class ModuleDocFragment(object):
    # The options tidb_export and tidb_import share (module_utils/specs.py transfer_options):
    # where the tool and the job's files are, the limits, failure handling.
    DOCUMENTATION = r'''
options:
  tool_version:
    description:
      - The version of the tiup component to run (C(tiup dumpling:<version>), C(tiup tidb-lightning:<version>));
        tiup's default without it. Not used with a binary path.
    type: str
  work_dir:
    description:
      - Root of the jobs' working directories on the managed node. A job's directory is
        C(<work_dir>/<cluster>/<export|import>-<name>) (mode 0700); it holds the tool's log, Lightning's
        checkpoint, an unpacked archive and an export's zip, and goes with the record on O(state=absent).
    type: path
    default: ~/.tidbops/transfers
  max_concurrent_transfers:
    description:
      - How many imports and exports may run on the cluster at once (slot locks in the catalog, so the
        limit holds across playbooks, hosts and AWX jobs).
    type: int
    default: 3
  wait:
    description:
      - When every transfer slot is taken, wait for one (up to O(wait_timeout) seconds) instead of failing
        with C(TRANSFER_LIMIT_REACHED).
    type: bool
    default: false
  wait_timeout:
    description:
      - Seconds to wait for a transfer slot with O(wait=true).
    type: int
    default: 600
  max_file_size:
    description:
      - Bytes an archive may hold, packed or unpacked (TiUniManager's 2 GiB).
    type: int
    default: 2147483648
  on_failure:
    description:
      - What happens to a failed job's partial output. V(keep) leaves it (an import resumes from it on
        the next run, an export is redone over it); V(remove) deletes it (an export's files; an import's
        checkpoint and unpacked archive). The record is marked V(failed) either way.
      - When Lightning marked a table failed in its checkpoint (the cluster failed under it
        mid-import, say), the next run fails with C(IMPORT_CHECKPOINT_FAILED), naming the tables
        and the C(tidb-lightning-ctl --checkpoint-error-destroy) command that resets just those.
    type: str
    choices: [keep, remove]
    default: keep
  comment:
    description:
      - A note kept in the record.
    type: str
  delete_data:
    description:
      - With O(state=absent), also delete an export's S3 objects (local files always go; an import's
        source is never deleted).
    type: bool
    default: false
'''
