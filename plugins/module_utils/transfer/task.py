# -*- coding: utf-8 -*-
# Copyright: (c) 2026, tidbops.manager contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What tidb_export and tidb_import share: a transfer keyed by name in the catalog, of one
type and one cluster, made by state present and deleted by state absent."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import contextlib

from ansible_collections.tidbops.manager.plugins.module_utils.transfer import records as transfers
from ansible_collections.tidbops.manager.plugins.module_utils.catalog.access import open_catalog
from ansible_collections.tidbops.manager.plugins.module_utils.cluster.identity import Cluster
from ansible_collections.tidbops.manager.plugins.module_utils.errors import TidbOpsError

WHAT = {"export": "an export of", "import": "an import into"}


class TransferTask(object):
    """Subclasses set TYPE and implement start() (and finished(), data_storage() for exports)."""

    TYPE = None

    def __init__(self, module):
        self.module = module
        self.params = module.params
        self.cluster = module.params["cluster"]
        self.target = Cluster(module.params)
        self.catalog = open_catalog(module.params)
        self.result = dict(transfer={}, commands=[])

    def run(self):
        name = self.params["name"]
        if self.params["state"] == "absent":
            self.absent(name)  # the module requires a name for state absent
        else:
            self.present(name or self.catalog.now().strftime("%Y-%m-%d-%H-%M-%S-" + self.TYPE))
        return self.module.result(**self.result)

    def present(self, record_id):
        """A finished transfer of that name is reported (finished()); any other is started, or
        taken over when its job died (start())."""
        record = self.own_record(record_id)
        transfers.check_not_running(self.catalog, record)
        if record and record["status"] == "finished":
            self.result["transfer"] = record
            self.finished(record)
        else:
            self.start(record_id, record)

    def finished(self, record):
        """Anything still to do for a finished transfer (an export's zip)."""

    def start(self, record_id, record):
        raise NotImplementedError

    def job_dir(self, record_id):
        return transfers.job_dir(self.params["work_dir"], self.cluster, self.TYPE, record_id)

    @contextlib.contextmanager
    def running(self, record_id, record, location, storage_type, **fields):
        """Hold a transfer slot, make the job's directory, write the record (new, or back to
        processing); yields the record."""
        job = transfers.job_name(self.TYPE, record_id)
        with transfers.transfer_slot(self.catalog, self.cluster, job, self.params["max_concurrent_transfers"],
                                     self.params["wait"], self.params["wait_timeout"]) as slot:
            work = transfers.make_private_dir(self.job_dir(record_id))
            if record is None:
                record = transfers.new_record(self.catalog, record_id, self.cluster, self.TYPE, location, storage_type,
                                              comment=self.params["comment"], slot=slot, config_path=work, **fields)
            else:
                record = transfers.start_again(self.catalog, record, slot)
            yield record

    def own_record(self, record_id):
        """The record of that id, None when there is none, or TRANSFER_RECORD_INVALID when it
        is another type's or another cluster's (the ids of imports and exports are one space)."""
        record = self.catalog.find(transfers.KIND, record_id)
        if record and (record.get("type") != self.TYPE or record.get("cluster") != self.cluster):
            raise TidbOpsError("TRANSFER_RECORD_INVALID", "transfer record %s is an %s of cluster %s, not %s %s"
                               % (record_id, record.get("type"), record.get("cluster"), WHAT[self.TYPE], self.cluster),
                               transfer=record)
        return record

    def data_storage(self, record):
        """The storage of the data the transfer made (an export's), or None (an import's source
        is not the import's to delete)."""
        return None

    def absent(self, record_id):
        record = self.own_record(record_id)
        if record is None:
            self.result["deleted"] = []
            return
        self.result.update(transfer=record, deleted=[])
        if self.module.act("delete"):
            self.result["deleted"] = transfers.delete_transfer(self.catalog, record, self.data_storage(record),
                                                               self.params["delete_data"])
