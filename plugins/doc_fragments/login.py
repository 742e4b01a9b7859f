# -*- coding: utf-8 -*-
# Copyright: (c) 2026, tidbops.manager contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type


class ModuleDocFragment(object):
    # The TiDB SQL login (module_utils/specs.py login_options).
    DOCUMENTATION = r'''
options:
  login_host:
    description:
      - Host of a TiDB server of the cluster (its SQL endpoint).
      - When neither O(login_host) nor O(login_port) is given, a module with a C(cluster) option logs in to
        the first TiDB server of that cluster in tiup's topology, and fails with C(CLUSTER_NOT_FOUND) when tiup
        does not know the cluster; other modules use V(127.0.0.1).
      - A login given names the cluster a job works on, whatever tiup calls it; the job's lock belongs to that
        cluster's PD cluster id, so two names for one cluster cannot run two jobs at once.
    type: str
  login_port:
    description:
      - Port of the TiDB SQL endpoint; V(4000) when neither it nor the cluster's topology says more.
    type: int
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
requirements:
  - PyMySQL >= 1.0 on the managed node
'''
