# -*- coding: utf-8 -*-
# Copyright: (c) 2026, tidbops.manager contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""DM's task precheck result, read from wherever DM puts it.

The checker (dm/checker/cmd.go) answers ``pre-check is passed. ``, or
``fail to check synchronization configuration with type: no errors but some warnings\\n detail: {...}``
(a create/update that succeeds with warnings), or fails with code 26005 and the same
``detail: {...}`` in its message. The detail is the checker's Results
(dm/pkg/checker/real_checker.go): ``{"results": [{"id", "name", "desc", "state": success|warn|fail,
"errors": [{"severity", "short_error"}], "instruction", "extra"}], "summary": {...}}``.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json
import re

DETAIL_RE = re.compile(r'\{\s*"results"\s*:')
PASSED = "pre-check is passed"


def check_details(text):
    """The checker's Results found in text, or None."""
    match = DETAIL_RE.search(text or "")
    if match is None:
        return None
    try:
        doc, _end = json.JSONDecoder().raw_decode(text[match.start():])
    except ValueError:
        return None
    return doc if isinstance(doc, dict) else None


def _item(result):
    item = dict((k, result[k]) for k in ("name", "desc", "state", "instruction", "extra") if result.get(k))
    item["errors"] = [e.get("short_error") for e in result.get("errors") or [] if e.get("short_error")]
    return item


def summarize_check(text, passed, error_count=10, warn_count=10):
    """The check as the module reports it: at most error_count errors and warn_count warnings
    shown (dmctl's --error/--warn), with the totals."""
    detail = check_details(text)
    results = (detail or {}).get("results") or []
    errors = [_item(r) for r in results if r.get("state") == "fail"]
    warnings = [_item(r) for r in results if r.get("state") == "warn"]
    if not passed and not errors:
        errors = [dict(name="precheck", state="fail", errors=[_headline(text)])]
    return dict(passed=bool(passed), message=_headline(text) or ("%s. " % PASSED if passed else ""),
                errors=errors[:max(error_count, 0)], warnings=warnings[:max(warn_count, 0)],
                error_total=len(errors), warn_total=len(warnings))


def _headline(text):
    """The message without the detail JSON."""
    text = text or ""
    match = DETAIL_RE.search(text)
    head = text[:match.start()] if match else text
    return head.replace("\n detail:", "").strip()
