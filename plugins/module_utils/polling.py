# -*- coding: utf-8 -*-
# Copyright: (c) 2026, tidbops.manager contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Waiting without wasting time: poll with short, growing intervals up to a deadline."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import time


def poll_until(probe, timeout, first_interval=0.1, max_interval=1.0, clock=time.monotonic,
               sleep=time.sleep):
    """Call probe() until it returns a truthy value or timeout seconds pass.

    Returns (done, last value of probe()). The first probe runs at once, so a condition that
    already holds costs no waiting at all."""
    deadline = clock() + timeout
    interval = first_interval
    while True:
        value = probe()
        if value:
            return True, value
        remaining = deadline - clock()
        if remaining <= 0:
            return False, value
        sleep(min(interval, remaining))
        interval = min(interval * 1.5, max_interval)
