# -*- coding: utf-8 -*-
# Copyright: (c) 2026, tidbops.manager contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A small JSON-over-HTTP client for the PD, DM-master and TiCDC APIs (ansible's open_url)."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json

from ansible.module_utils.six.moves.urllib.error import HTTPError, URLError

from ansible_collections.tidbops.manager.plugins.module_utils.errors import TidbOpsError


class HttpResponse(object):
    def __init__(self, status, body):
        self.status = status
        self.body = body

    def json(self):
        return json.loads(self.body) if self.body else None


class JsonHttpClient(object):
    """Talks to one service that may have several endpoints (e.g. every PD); the first that
    answers wins. Connection failures on every endpoint raise ``unreachable_code``."""

    def __init__(self, endpoints, timeout=5, unreachable_code="HTTP_REQUEST_FAILED",
                 service="HTTP API"):
        self.endpoints = [normalize_endpoint(e) for e in endpoints]
        self.timeout = timeout
        self.unreachable_code = unreachable_code
        self.service = service

    def request(self, method, path, payload=None):
        data = None
        headers = {"Accept": "application/json"}
        if payload is not None:
            data = json.dumps(payload)
            headers["Content-Type"] = "application/json"
        # ansible.module_utils.urls costs about 0.3 s of CPU to import: only a request pays it.
        from ansible.module_utils.urls import open_url
        failures = []
        for endpoint in self.endpoints:
            url = endpoint + path
            try:
                resp = open_url(url, method=method, data=data, headers=headers,
                                timeout=self.timeout, validate_certs=True)
                return HttpResponse(resp.getcode(), resp.read().decode("utf-8"))
            except HTTPError as exc:
                body = exc.read().decode("utf-8", "replace") if exc.fp else ""
                return HttpResponse(exc.code, body)
            except (URLError, OSError) as exc:
                failures.append("%s: %s" % (endpoint, getattr(exc, "reason", exc)))
        raise TidbOpsError(
            self.unreachable_code,
            "no %s endpoint answered (%s)" % (self.service, "; ".join(failures)),
            endpoints=self.endpoints)

    def get_json(self, path):
        resp = self.request("GET", path)
        if resp.status >= 400:
            raise TidbOpsError("HTTP_REQUEST_FAILED", "%s GET %s answered %d: %s"
                               % (self.service, path, resp.status, resp.body[:500]),
                               status=resp.status)
        try:
            return resp.json()
        except ValueError:
            raise TidbOpsError("HTTP_REQUEST_FAILED", "%s GET %s did not answer JSON: %s"
                               % (self.service, path, resp.body[:200]))


def normalize_endpoint(endpoint):
    endpoint = endpoint.strip().rstrip("/")
    if "://" not in endpoint:
        endpoint = "http://" + endpoint
    return endpoint


class PdClient(object):
    """The PD HTTP API (tikv/pd server/api): members, health and stores."""

    def __init__(self, endpoints, timeout=5):
        self.http = JsonHttpClient(endpoints, timeout=timeout,
                                   unreachable_code="PD_UNREACHABLE", service="PD")

    def health(self):
        return self.http.get_json("/pd/api/v1/health")

    def stores(self):
        return self.http.get_json("/pd/api/v1/stores").get("stores") or []

    def members(self):
        return self.http.get_json("/pd/api/v1/members")

    def cluster(self):
        """{"id": PD's cluster id, "max_peer_count": ...}"""
        return self.http.get_json("/pd/api/v1/cluster")
