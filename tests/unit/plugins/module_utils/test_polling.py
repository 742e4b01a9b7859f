"""poll_until: no wait when the condition holds, growing intervals, bounded by the timeout."""
from ansible_collections.tidbops.manager.plugins.module_utils.polling import poll_until


class FakeClock(object):
    def __init__(self):
        self.now = 0.0
        self.sleeps = []

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.sleeps.append(seconds)
        self.now += seconds


def test_no_sleep_when_already_true():
    clock = FakeClock()
    assert poll_until(lambda: "ready", 10, clock=clock, sleep=clock.sleep) == (True, "ready")
    assert clock.sleeps == []


def test_intervals_grow_and_are_capped():
    clock = FakeClock()
    answers = iter([None] * 8 + ["ok"])
    done, value = poll_until(lambda: next(answers), 100, first_interval=0.1, max_interval=0.5,
                             clock=clock, sleep=clock.sleep)
    assert (done, value) == (True, "ok")
    assert clock.sleeps[0] == 0.1 and clock.sleeps[1] > 0.1
    assert max(clock.sleeps) == 0.5
    assert all(a <= b for a, b in zip(clock.sleeps, clock.sleeps[1:]))


def test_gives_up_at_the_deadline():
    clock = FakeClock()
    done, value = poll_until(lambda: [], 3, clock=clock, sleep=clock.sleep)
    assert (done, value) == (False, [])
    assert abs(clock.now - 3) < 1e-9
