# -*- coding: utf-8 -*-
# Copyright: (c) 2026, tidbops.manager contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The option blocks of the collection, one per family, as plain data.

This file imports nothing: a module builds its argument spec from it without loading the
code of the families it does not use (PyMySQL, boto3, the HTTP client).

``module_defaults: group/tidbops.manager.all`` hands every default to every module of the
group, and a module refuses options it does not know. So each module still accepts every
shared block (``common_argument_spec``) and uses those it needs.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type


def login_options():
    """The TiDB SQL login (doc fragment: common)."""
    return dict(
        login_host=dict(type="str", default="127.0.0.1"),
        login_port=dict(type="int", default=4000),
        login_user=dict(type="str", default="root"),
        login_password=dict(type="str", default="", no_log=True),
        connect_timeout=dict(type="int", default=10),
        ca_cert=dict(type="path", aliases=["ssl_ca"]),
        client_cert=dict(type="path", aliases=["ssl_cert"]),
        client_key=dict(type="path", aliases=["ssl_key"]),
        check_hostname=dict(type="bool"),
    )


def tiup_options():
    """Where tiup is, and how it reaches the hosts over SSH."""
    return dict(
        tiup_path=dict(type="path"),
        tiup_home=dict(type="path"),
        ssh_user=dict(type="str"),
        ssh_identity_file=dict(type="path"),
    )


def catalog_options():
    """The catalog location and the S3 credentials of every s3:// location."""
    return dict(
        catalog=dict(type="str"),
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


def transfer_options():
    """What tidb_export and tidb_import share (doc fragment: transfer)."""
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


def common_argument_spec(**module_options):
    """The shared blocks (login, tiup, catalog, DM), plus this module's own options."""
    spec = login_options()
    spec.update(tiup_options())
    spec.update(catalog_options())
    spec.update(dm_options())
    spec.update(module_options)
    return spec
