"""Test doubles shared by the module_utils tests."""
import datetime

import pytest

UTC = datetime.timezone.utc
T0 = datetime.datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)


class Clock(object):
    """A clock for Catalog(storage, clock=...) that moves only when told to."""

    def __init__(self, start=T0):
        self.moment = start

    def __call__(self):
        return self.moment

    def advance(self, seconds):
        self.moment += datetime.timedelta(seconds=seconds)


@pytest.fixture
def clock():
    return Clock()
