"""Go's time.ParseDuration and Duration.String, which TiDB uses for duration variables.

TiDB validates `SET GLOBAL tidb_gc_life_time = '24h'` with Go's parser and stores the
value as Go prints it ("24h0m0s"), so the stand-in must accept, reject and print exactly
the same strings. Durations are integers of nanoseconds, like Go's.
"""

NANOSECOND = 1
MICROSECOND = 1000 * NANOSECOND
MILLISECOND = 1000 * MICROSECOND
SECOND = 1000 * MILLISECOND
MINUTE = 60 * SECOND
HOUR = 60 * MINUTE

_UNITS = {
    "ns": NANOSECOND,
    "us": MICROSECOND,
    "\u00b5s": MICROSECOND,  # micro sign
    "\u03bcs": MICROSECOND,  # Greek small letter mu
    "ms": MILLISECOND,
    "s": SECOND,
    "m": MINUTE,
    "h": HOUR,
}

_MAX = 1 << 63  # Go's Duration is an int64


def parse(text):
    """Nanoseconds for a Go duration string; ValueError when Go would refuse it."""
    s = text
    neg = False
    if s[:1] in ("-", "+"):
        neg = s[0] == "-"
        s = s[1:]
    if s == "0":
        return 0
    if s == "":
        raise ValueError("invalid duration %r" % text)
    total = 0
    while s:
        if not (s[0] == "." or s[0].isdigit() and s[0].isascii()):
            raise ValueError("invalid duration %r" % text)
        whole, s, had_whole = _leading_int(s, text)
        frac, scale, had_frac = 0, 1.0, False
        if s[:1] == ".":
            frac, scale, s, had_frac = _leading_fraction(s[1:])
        if not had_whole and not had_frac:
            raise ValueError("invalid duration %r" % text)
        end = 0
        while end < len(s) and not (s[end] == "." or "0" <= s[end] <= "9"):
            end += 1
        if end == 0:
            raise ValueError("missing unit in duration %r" % text)
        unit_name, s = s[:end], s[end:]
        if unit_name not in _UNITS:
            raise ValueError("unknown unit %r in duration %r" % (unit_name, text))
        unit = _UNITS[unit_name]
        if whole > _MAX // unit:
            raise ValueError("invalid duration %r" % text)
        value = whole * unit
        if frac > 0:
            # Go computes the fractional part in float64; so do we, for identical results.
            value += int(float(frac) * (float(unit) / scale))
            if value > _MAX:
                raise ValueError("invalid duration %r" % text)
        total += value
        if total > _MAX:
            raise ValueError("invalid duration %r" % text)
    if neg:
        return -total
    if total > _MAX - 1:
        raise ValueError("invalid duration %r" % text)
    return total


def _leading_int(s, text):
    end = 0
    while end < len(s) and "0" <= s[end] <= "9":
        end += 1
    value = int(s[:end]) if end else 0
    if value >= _MAX:
        raise ValueError("invalid duration %r" % text)
    return value, s[end:], end > 0


def _leading_fraction(s):
    """Digits after the dot; like Go, digits beyond int64 precision are consumed, not used."""
    end, value, scale, overflow = 0, 0, 1.0, False
    while end < len(s) and "0" <= s[end] <= "9":
        if not overflow:
            if value > (_MAX - 1) // 10:
                overflow = True
            else:
                value = value * 10 + int(s[end])
                scale *= 10
        end += 1
    return value, scale, s[end:], end > 0


def format(nanos):  # pylint: disable=redefined-builtin
    """Go's Duration.String(): 1h30m0s, 10m0s, 1.5s, 500ms, 0s."""
    if nanos == 0:
        return "0s"
    sign = "-" if nanos < 0 else ""
    u = abs(nanos)
    if u < SECOND:
        if u < MICROSECOND:
            prec, unit = 0, "ns"
        elif u < MILLISECOND:
            prec, unit = 3, "\u00b5s"
        else:
            prec, unit = 6, "ms"
        whole, frac = divmod(u, 10 ** prec)
        return sign + str(whole) + _fraction(frac, prec) + unit
    seconds, frac = divmod(u, SECOND)
    text = str(seconds % 60) + _fraction(frac, 9) + "s"
    minutes = seconds // 60
    if minutes:
        text = str(minutes % 60) + "m" + text
        hours = minutes // 60
        if hours:
            text = str(hours) + "h" + text
    return sign + text


def _fraction(frac, prec):
    if prec == 0:
        return ""
    digits = str(frac).rjust(prec, "0").rstrip("0")
    return "." + digits if digits else ""
