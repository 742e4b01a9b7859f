# -*- coding: utf-8 -*-
# Copyright: (c) 2026, tidbops.manager contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type


class ModuleDocFragment(object):
    # The options every module accepts (module_utils/specs.py common_argument_spec): the TiDB SQL
    # login, where tiup is, the catalog, the S3 credentials and the DM-master addresses.
    DOCUMENTATION = r'''
options:
  login_host:
    description:
      - Host of a TiDB server of the cluster (its SQL endpoint).
    type: str
    default: 127.0.0.1
  login_port:
    description:
      - Port of the TiDB SQL endpoint.
    type: int
    default: 4000
  login_user:
    description:
      - The user to log in as.
    type: str
    default: root
  login_password:
    description:
      - The password of O(login_user). Never logged, never on a command line.
    type: str
    default: ''
  connect_timeout:
    description:
      - Seconds to wait for the connection.
    type: int
    default: 10
  ca_cert:
    description:
      - CA certificate to verify the server with (TLS).
    type: path
    aliases: [ssl_ca]
  client_cert:
    description:
      - Client certificate for TLS.
    type: path
    aliases: [ssl_cert]
  client_key:
    description:
      - Client private key for TLS.
    type: path
    aliases: [ssl_key]
  check_hostname:
    description:
      - Whether the server's certificate must match O(login_host). Defaults to the PyMySQL behaviour.
    type: bool
  tiup_path:
    description:
      - Path of the C(tiup) binary. By default C(tiup) is looked up on E(PATH).
    type: path
  tiup_home:
    description:
      - The TiUP home directory (sets E(TIUP_HOME) for tiup), which holds the clusters' metadata.
      - By default tiup's own default applies (E(TIUP_HOME) if set, else C(~/.tiup)).
    type: path
  ssh_user:
    description:
      - The SSH user tiup connects to the cluster's hosts as (C(tiup cluster deploy --user)).
    type: str
  ssh_identity_file:
    description:
      - The SSH private key for O(ssh_user) (C(--identity_file)). tiup needs a key, a password or
        an ssh-agent to reach the hosts.
    type: path
  catalog:
    description:
      - Where the collection keeps its records (backups, restores, strategies, GC holds) and
        locks, one JSON document each, never holding a secret.
      - An absolute directory (local or NFS, shared by the hosts that run the jobs) or an
        V(s3://bucket/prefix) URL.
      - Required by the modules that keep records.
    type: str
  s3_endpoint:
    description:
      - The S3 API endpoint for V(s3://) locations (catalog and storage), for S3-compatible
        servers such as MinIO. By default AWS's.
    type: str
  s3_region:
    description:
      - The S3 region.
    type: str
  s3_access_key:
    description:
      - The S3 access key id. By default boto3's credential chain applies (environment, profile).
    type: str
  s3_secret_key:
    description:
      - The S3 secret access key. Never logged, never in a record or a result.
    type: str
  s3_session_token:
    description:
      - An S3 session token, for temporary credentials.
    type: str
  dm_master_url:
    description:
      - Addresses of the DM-masters' OpenAPI (V(http://host:8261)), tried in order until one
        answers; any master works, a non-leader forwards to the leader.
      - The DM-master must run with C(openapi = true).
      - Used by the C(dm_*) modules.
    type: list
    elements: str
    default: ['http://127.0.0.1:8261']
  dm_timeout:
    description:
      - Seconds to wait for each DM-master HTTP request.
    type: int
    default: 30
  dmctl_path:
    description:
      - Path of the C(dmctl) binary, for what only dmctl can do (the task check with error and
        warning limits, shard DDL locks, leader eviction). By default C(dmctl) is looked up on E(PATH).
    type: path
requirements:
  - PyMySQL >= 1.0 on the managed node
  - tiup (with the cluster component) on the managed node, for the modules that run it
  - boto3 >= 1.35 on the managed node, for V(s3://) locations
notes:
  - Every module of the collection accepts the connection options (O(login_host), O(tiup_path),
    O(catalog), O(s3_endpoint), O(dm_master_url) and the others), so that C(module_defaults) with the group
    C(group/tidbops.manager.all) can set them once; each module uses those it needs.
'''
