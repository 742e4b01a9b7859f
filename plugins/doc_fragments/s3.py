# -*- coding: utf-8 -*-
# Copyright: (c) 2026, tidbops.manager contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type


class ModuleDocFragment(object):
    # The S3 endpoint and credentials of every s3:// location, catalog or storage (module_utils/specs.py s3_options).
    DOCUMENTATION = r'''
options:
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
requirements:
  - boto3 >= 1.35 on the managed node, for V(s3://) locations
'''
