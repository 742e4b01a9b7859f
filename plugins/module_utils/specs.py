# -*- coding: utf-8 -*-
# Copyright: (c) 2026, tidbops.manager contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The option blocks of the collection, one per family, as plain data.

This file imports nothing: a module builds its argument spec from it without loading the
code of the families it does not use (PyMySQL, boto3, the HTTP client), and the controller
side (plugin_utils) reads the blocks' option names from it.

Each block has a doc fragment of the same name (``plugins/doc_fragments/<block>.py``); a
module names the blocks it takes (``TidbOpsModule(blocks=...)``) and extends the same
fragments, and the sanity test validate-modules keeps the two in step.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type


def login_options():
    """The TiDB SQL login."""
    return dict(
        # No defaults: a login given says which cluster a job works on (cluster/identity.py);
        # 127.0.0.1:4000 is used when neither it nor tiup says more (tools/sql.py).
        login_host=dict(type="str"),
        login_port=dict(type="int"),
        login_user=dict(type="str", default="root"),
        login_password=dict(type="str", default="", no_log=True),
        connect_timeout=dict(type="int", default=10),
        ca_cert=dict(type="path", aliases=["ssl_ca"]),
        client_cert=dict(type="path", aliases=["ssl_cert"]),
        client_key=dict(type="path", aliases=["ssl_key"]),
        check_hostname=dict(type="bool"),
    )


def source_login_options():
    """The login of another cluster's TiDB (copy_from of tidb_variables and tidb_user): no TLS,
    no defaults from module_defaults, since it is not the cluster the task works on."""
    return dict(
        login_host=dict(type="str", required=True),
        login_port=dict(type="int", default=4000),
        login_user=dict(type="str", default="root"),
        login_password=dict(type="str", default="", no_log=True),
        connect_timeout=dict(type="int", default=10),
    )


def tiup_options():
    """Where tiup and its clusters' metadata are."""
    return dict(
        tiup_path=dict(type="path"),
        tiup_home=dict(type="path"),
    )


def ssh_options():
    """How tiup reaches the cluster's hosts when it deploys."""
    return dict(
        ssh_user=dict(type="str"),
        ssh_identity_file=dict(type="path"),
    )


def catalog_options():
    """Where the records and locks are (a directory or an s3:// URL, which needs the s3 block)."""
    return dict(
        catalog=dict(type="str"),
    )


def s3_options():
    """The S3 endpoint and credentials of every s3:// location, catalog or storage."""
    return dict(
        s3_endpoint=dict(type="str"),
        s3_region=dict(type="str"),
        s3_access_key=dict(type="str", no_log=True),
        s3_secret_key=dict(type="str", no_log=True),
        s3_session_token=dict(type="str", no_log=True),
    )


def dm_options():
    """The DM-master OpenAPI and dmctl."""
    return dict(
        dm_master_url=dict(type="list", elements="str", default=["http://127.0.0.1:8261"]),
        dm_timeout=dict(type="int", default=30),
        dmctl_path=dict(type="path"),
    )


def cdc_options():
    """The TiCDC servers' OpenAPI (port 8300); any server forwards to the owner."""
    return dict(
        cdc_url=dict(type="list", elements="str", default=["http://127.0.0.1:8300"]),
        cdc_timeout=dict(type="int", default=30),
    )


def transfer_options():
    """What tidb_export and tidb_import share."""
    return dict(
        tool_version=dict(type="str"),
        work_dir=dict(type="path", default="~/.tidbops/transfers"),
        max_concurrent_transfers=dict(type="int", default=3),
        wait=dict(type="bool", default=False),
        wait_timeout=dict(type="int", default=600),
        max_file_size=dict(type="int", default=2 * 1024 * 1024 * 1024),
        on_failure=dict(type="str", default="keep", choices=["keep", "remove"]),
        comment=dict(type="str"),
        delete_data=dict(type="bool", default=False),
    )


def lock_options():
    """The cluster lock a job holds while it runs (backup, restore)."""
    return dict(
        lock_ttl=dict(type="int", default=86400),
        break_lock=dict(type="bool", default=False),
    )


def paging_options():
    """Paging through the records an *_info module lists."""
    return dict(
        limit=dict(type="int", default=100),
        offset=dict(type="int", default=0),
    )


# The shared blocks, by the name of their doc fragment. The transfer and paging blocks are one
# module family's own options, not connection settings that module_defaults spreads over a group.
BLOCKS = dict(
    login=login_options,
    tiup=tiup_options,
    ssh=ssh_options,
    catalog=catalog_options,
    s3=s3_options,
    dm=dm_options,
    cdc=cdc_options,
    transfer=transfer_options,
    paging=paging_options,
    lock=lock_options,
)


# Integers are unbounded in Python and in Ansible's int type; these are the ranges the tools
# take (TiDB's BRIE options and BR's flags are uint32/uint64, tiup's and Dumpling's int).
UINT32 = 2 ** 32 - 1
INT32 = 2 ** 31 - 1
INT64 = 2 ** 63 - 1
PORT = (1, 65535)
SECONDS = (1, INT32)

# The inclusive (low, high) range of each integer option of a block, checked before any work.
BLOCK_RANGES = dict(
    login=dict(login_port=PORT, connect_timeout=SECONDS),
    dm=dict(dm_timeout=SECONDS),
    cdc=dict(cdc_timeout=SECONDS),
    transfer=dict(max_concurrent_transfers=(1, 1000), wait_timeout=(0, INT32), max_file_size=(0, INT64)),
    paging=dict(limit=(0, INT64), offset=(0, INT64)),
    lock=dict(lock_ttl=SECONDS),
)


def ranges(blocks, own):
    """The ranges of the blocks' integer options and of the module's own (own: name -> range)."""
    merged = {}
    for block in blocks:
        merged.update(BLOCK_RANGES.get(block, {}))
    merged.update(own or {})
    return merged


def block_names(block):
    """Every name an option of the block answers to (its aliases too)."""
    names = set()
    for name, spec in BLOCKS[block]().items():
        names.add(name)
        names.update(spec.get("aliases", ()))
    return names


def secret_names():
    """Every name of a no_log option of any block, taken by the module or not."""
    names = set()
    for block in BLOCKS.values():
        for name, spec in block().items():
            if spec.get("no_log"):
                names.add(name)
                names.update(spec.get("aliases", ()))
    return names


def argument_spec(blocks, own):
    """The module's own options plus those of the blocks it takes."""
    spec = {}
    for block in blocks:
        spec.update(BLOCKS[block]())
    overlap = set(spec) & set(own)
    if overlap:
        raise ValueError("options %s are a shared block's" % ", ".join(sorted(overlap)))
    spec.update(own)
    return spec
