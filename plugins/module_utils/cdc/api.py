# -*- coding: utf-8 -*-
# Copyright: (c) 2026, tidbops.manager contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The TiCDC OpenAPI client, v2 or v1 by the server's version.

OpenAPI v2 has the full set of changefeed routes from v6.6.0 (v6.2 to v6.5 lack get, list,
delete and pause), so older servers are driven through v1, whose changes answer HTTP 202 with
no body: the client then reads the changefeed until the change shows. Errors are
``{"error_msg", "error_code": "CDC:Err..."}``; each becomes a TidbOpsError with a CDC_* code
and TiCDC's code as ``cdc_error_code``. Sink URIs come back with the password as ``xxxxx``.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json
import re

from ansible.module_utils.six.moves.urllib.parse import quote

from ansible_collections.tidbops.manager.plugins.module_utils.errors import TidbOpsError
from ansible_collections.tidbops.manager.plugins.module_utils.polling import poll_until
from ansible_collections.tidbops.manager.plugins.module_utils.tools.http import JsonHttpClient

V2_FROM = (6, 6, 0)
V1_SETTLE_SECONDS = 30

CDC_ERROR_CODES = {
    "CDC:ErrStartTsBeforeGC": "CDC_START_TS_BEFORE_GC",
    "CDC:ErrSinkURIInvalid": "CDC_SINK_INVALID",
    "CDC:ErrMySQLInvalidConfig": "CDC_SINK_INVALID",
    "CDC:ErrMySQLConnectionError": "CDC_SINK_INVALID",
    "CDC:ErrTableIneligible": "CDC_TABLE_INELIGIBLE",
    "CDC:ErrAPIInvalidParam": "CDC_CHANGEFEED_INVALID",
    "CDC:ErrTargetTsBeforeStartTs": "CDC_CHANGEFEED_INVALID",
    "CDC:ErrFilterRuleInvalid": "CDC_CHANGEFEED_INVALID",
    "CDC:ErrChangefeedUpdateRefused": "CDC_CHANGEFEED_NOT_UPDATABLE",
}
NOT_FOUND = "CDC:ErrChangeFeedNotExists"


def version_tuple(text):
    match = re.search(r"(\d+)\.(\d+)\.(\d+)", text or "")
    return tuple(int(x) for x in match.groups()) if match else (0, 0, 0)


class CdcClient(object):
    """One TiCDC cluster's OpenAPI. Every method raises TidbOpsError on failure."""

    def __init__(self, urls, timeout=30, namespace="default"):
        self.http = JsonHttpClient(urls, timeout=timeout, unreachable_code="CDC_UNREACHABLE", service="TiCDC")
        self.namespace = namespace
        self._status = None

    @classmethod
    def from_params(cls, params, namespace="default"):
        urls = [u for u in params.get("cdc_url") or [] if u and u.strip()]
        if not urls:
            raise TidbOpsError("INVALID_ARGUMENT", "cdc_url needs at least one TiCDC server address")
        return cls(urls, timeout=params.get("cdc_timeout") or 30, namespace=namespace)

    # -- transport ---------------------------------------------------------------------

    def call(self, method, path, body=None, missing_ok=False):
        resp = self.http.request(method, path, body)
        if resp.status < 300:
            try:
                return resp.json()
            except ValueError:
                raise TidbOpsError("CDC_API_ERROR", "TiCDC %s %s did not answer JSON: %s"
                                   % (method, path, resp.body[:200]))
        code, message = _cdc_error(resp)
        if missing_ok and code == NOT_FOUND:
            return None
        if resp.status == 404 and code is None:
            message = "no such API on TiCDC %s" % self.version
        raise TidbOpsError(CDC_ERROR_CODES.get(code, "CDC_API_ERROR"), "TiCDC %s %s failed: %s"
                           % (method, path, message), cdc_error_code=code, status=resp.status)

    def status(self):
        if self._status is None:
            self._status = self.call("GET", "/api/v1/status") or {}
        return self._status

    @property
    def version(self):
        return self.status().get("version") or ""

    @property
    def api(self):
        return "v2" if version_tuple(self.version) >= V2_FROM else "v1"

    def _path(self, feed_id=None, action=None):
        path = "/api/%s/changefeeds" % self.api
        if feed_id is not None:
            path += "/" + quote(feed_id, safe="")
        if action:
            path += "/" + action
        return path + "?namespace=" + quote(self.namespace, safe="")

    # -- changefeeds -------------------------------------------------------------------

    def get(self, feed_id):
        """The changefeed in v2's shape (state, checkpoint_ts, sink_uri masked, config), or None."""
        feed = self.call("GET", self._path(feed_id), missing_ok=True)
        if feed is None or self.api == "v2":
            return feed
        feed = dict(feed)  # v1's detail: checkpoint_tso, no config
        feed.setdefault("checkpoint_ts", feed.get("checkpoint_tso"))
        return feed

    def list(self):
        """Every changefeed of the namespace (all states) in the lists' common shape."""
        path = "/api/%s/changefeeds?namespace=%s&state=all" % (self.api, quote(self.namespace, safe=""))
        doc = self.call("GET", path)
        return (doc or {}).get("items", []) if self.api == "v2" else (doc or [])

    def create(self, feed_id, sink_uri, start_ts=0, target_ts=0, rules=None, ignore_ineligible_table=False,
               force_replicate=False):
        if self.api == "v2":
            body = dict(changefeed_id=feed_id, namespace=self.namespace, sink_uri=sink_uri, start_ts=start_ts,
                        target_ts=target_ts, replica_config=dict(
                            filter=dict(rules=list(rules or ["*.*"])), ignore_ineligible_table=ignore_ineligible_table,
                            force_replicate=force_replicate))
            return self.call("POST", self._path(), body)
        body = dict(changefeed_id=feed_id, namespace=self.namespace, sink_uri=sink_uri, start_ts=start_ts,
                    target_ts=target_ts, filter_rules=list(rules or ["*.*"]),
                    ignore_ineligible_table=ignore_ineligible_table, force_replicate=force_replicate)
        self.call("POST", self._path(), body)
        return self._settle(feed_id, lambda feed: feed is not None)

    def update(self, feed_id, sink_uri=None, target_ts=None, rules=None):
        body = {}
        if sink_uri:
            body["sink_uri"] = sink_uri
        if target_ts:
            body["target_ts"] = target_ts
        if rules is not None:
            if self.api == "v2":
                body["replica_config"] = dict(filter=dict(rules=list(rules)))
            else:
                body["filter_rules"] = list(rules)
        self.call("PUT", self._path(feed_id), body)

    def pause(self, feed_id):
        self.call("POST", self._path(feed_id, "pause"))
        if self.api == "v1":
            self._settle(feed_id, lambda feed: feed is None or feed.get("state") == "stopped")

    def resume(self, feed_id):
        self.call("POST", self._path(feed_id, "resume"), {} if self.api == "v2" else None)
        if self.api == "v1":
            self._settle(feed_id, lambda feed: feed is None or feed.get("state") != "stopped")

    def delete(self, feed_id):
        self.call("DELETE", self._path(feed_id), missing_ok=True)
        if self.api == "v1":
            self._settle(feed_id, lambda feed: feed is None)

    def _settle(self, feed_id, done):
        """v1 accepts a change (202) before the owner makes it: read until it shows."""
        def probe():
            feed = self.get(feed_id)
            return _Box(feed) if done(feed) else None
        settled, feed = poll_until(probe, V1_SETTLE_SECONDS, first_interval=0.05)
        if not settled:
            raise TidbOpsError("CDC_API_ERROR", "TiCDC accepted the change of changefeed %s but did not "
                               "apply it within %d s" % (feed_id, V1_SETTLE_SECONDS))
        return feed.value


class _Box(object):
    """A truthy holder, so that poll_until can return a value that may itself be None."""

    def __init__(self, value):
        self.value = value


def _cdc_error(resp):
    try:
        doc = json.loads(resp.body) if resp.body else None
    except ValueError:
        doc = None
    if isinstance(doc, dict) and "error_msg" in doc:
        return doc.get("error_code") or None, doc["error_msg"]
    return None, (resp.body or "HTTP %d" % resp.status)[:500]
