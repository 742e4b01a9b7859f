# -*- coding: utf-8 -*-
# Copyright: (c) 2026, tidbops.manager contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A MySQL/TiDB sink given as parts, its URI, and its comparison with what TiCDC shows.

The password is only ever placed in the URI sent to TiCDC; TiCDC shows it back as ``xxxxx``
(url.URL.Redacted), so a sink is compared without it. Parameters and limits are TiCDC's
(pkg/sink/mysql/config.go): worker-count (1..1024) and max-txn-row (1..2048) must be positive
from v6.0.0 on, and TiUniManager's clone sent 0 for both.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible.module_utils.six.moves.urllib.parse import parse_qsl, quote, unquote, urlencode, urlsplit

from ansible_collections.tidbops.manager.plugins.module_utils.errors import TidbOpsError

SCHEMES = ("mysql", "tidb", "mysql+ssl", "tidb+ssl")
POSITIVE = {"worker-count": 1024, "max-txn-row": 2048, "max-multi-update-row": 256,
            "max-multi-update-row-size": 8192}
SECRET_WORDS = ("password", "passwd", "pwd", "secret", "token", "key", "credential", "private")


def check_options(options):
    """The sink's query parameters as text; INVALID/CDC_SINK_INVALID before anything is sent."""
    checked = {}
    for name, value in sorted((options or {}).items()):
        name = str(name).strip()
        if any(word in name.lower() for word in SECRET_WORDS if not name.lower().startswith("ssl-")):
            raise TidbOpsError("CDC_SINK_INVALID", "sink option %s looks like a credential: give the "
                               "password as sink.password, never in the options" % name)
        text = str(value).lower() if isinstance(value, bool) else str(value)
        if name in POSITIVE:
            try:
                number = int(text)
            except ValueError:
                raise TidbOpsError("CDC_SINK_INVALID", "sink option %s must be an integer, not %r" % (name, text))
            if not 1 <= number <= POSITIVE[name]:
                raise TidbOpsError("CDC_SINK_INVALID", "sink option %s must be between 1 and %d, not %d (TiCDC "
                                   "refuses 0 from v6.0.0)" % (name, POSITIVE[name], number))
        checked[name] = text
    return checked


def uri(sink, options):
    """The sink URI sent to TiCDC (with the password: never returned, never logged)."""
    userinfo = quote(sink["user"], safe="")
    if sink.get("password"):
        userinfo += ":" + quote(sink["password"], safe="")
    else:
        userinfo += ":"
    host = sink["host"]
    if ":" in host and not host.startswith("["):
        host = "[%s]" % host
    query = urlencode(sorted(options.items()))
    return "%s://%s@%s:%d/%s" % (sink["scheme"], userinfo, host, int(sink["port"]), "?" + query if query else "")


def shown(sink_uri):
    """What TiCDC shows of a sink: (scheme, host, port, user, {option: value})."""
    parts = urlsplit(sink_uri or "")
    try:
        port = parts.port
    except ValueError:
        port = None
    return (parts.scheme.lower(), (parts.hostname or "").lower(), port or 4000, unquote(parts.username or ""),
            dict(parse_qsl(parts.query, keep_blank_values=True)))


def masked(sink, options):
    """The sink URI as TiCDC shows it (password xxxxx), for results."""
    text = uri(dict(sink, password=""), options)
    return text.replace(quote(sink["user"], safe="") + ":@", quote(sink["user"], safe="") + ":xxxxx@", 1)


def differences(sink, options, current_uri):
    """The parts of the sink that differ from the changefeed's (the password is not shown)."""
    scheme, host, port, user, current = shown(current_uri)
    diffs = []
    if scheme != sink["scheme"]:
        diffs.append("scheme")
    if host != sink["host"].lower().strip("[]") or port != int(sink["port"]):
        diffs.append("address")
    if user != sink["user"]:
        diffs.append("user")
    if current != options:
        diffs.append("options")
    return diffs
