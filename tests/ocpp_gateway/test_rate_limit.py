"""The per-station token bucket, on a clock the tests move (no sleeping)."""

import logging

import pytest

from ocpp_gateway.transport.rate_limit import (
    DROP_AFTER_SECONDS,
    REPORT_EVERY_SECONDS,
    Admission,
    StationRateLimits,
    Verdict,
    is_an_answer,
)

RATE, BURST, MAX_DELAY = 10.0, 5, 2.0
NOW = Admission(Verdict.HANDLE)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class Scheduler:
    def __init__(self) -> None:
        self.pending: list[tuple[float, object]] = []

    def __call__(self, delay, callback) -> None:
        self.pending.append((delay, callback))

    def run_all(self) -> None:
        pending, self.pending = self.pending, []
        for _, callback in pending:
            callback()


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def scheduler():
    return Scheduler()


@pytest.fixture
def limits(clock, scheduler):
    return StationRateLimits(clock=clock, schedule=scheduler)


def admit(limits, station="CP-1", answer=False, **settings):
    options = {"rate": RATE, "burst": BURST, "max_delay": MAX_DELAY, **settings}
    return limits.admit(station, answer=answer, **options)


def test_a_burst_is_handled_at_once_then_the_station_waits_for_its_next_token(limits):
    assert [admit(limits) for _ in range(BURST)] == [NOW] * BURST
    slowed = admit(limits)
    assert slowed.verdict is Verdict.HANDLE
    assert slowed.delay == pytest.approx(1 / RATE)


def test_a_station_within_the_rate_is_never_slowed(limits, clock):
    for _ in range(100):
        assert admit(limits) == NOW
        clock.advance(1 / RATE)


def slowed_until_cut_off(limits, clock) -> list[Verdict]:
    """Frames sent back to back, each waiting its token as the consumer does."""
    verdicts = []
    while True:
        admission = admit(limits)
        verdicts.append(admission.verdict)
        if admission.verdict is not Verdict.HANDLE:
            return verdicts
        clock.advance(admission.delay)


def test_a_station_back_within_the_rate_starts_its_time_over_the_rate_again(limits, clock):
    for _ in range(BURST):
        admit(limits)
    for _ in range(15):  # slowed for 1.5 s of the 2 it may be
        clock.advance(admit(limits).delay)
    clock.advance(0.2)  # a pause: two tokens back

    assert [admit(limits), admit(limits)] == [NOW, NOW]
    # Slowed for a full MAX_DELAY again before it is cut off, not for the 0.5 s left.
    assert slowed_until_cut_off(limits, clock) == [Verdict.HANDLE] * 20 + [Verdict.DISCONNECT]


def test_a_station_over_the_rate_for_max_delay_in_a_row_is_disconnected(limits, clock):
    for _ in range(BURST):
        admit(limits)
    # Slowed for MAX_DELAY (2 s) at 1/RATE each: twenty frames, the next one is cut off.
    assert slowed_until_cut_off(limits, clock) == [Verdict.HANDLE] * 20 + [Verdict.DISCONNECT]


def test_a_call_that_would_wait_more_than_a_second_is_dropped_and_counted(limits, clock):
    slow = {"rate": 0.5, "burst": 1}  # a token every 2 s
    assert admit(limits, **slow) == NOW
    assert 1 / slow["rate"] > DROP_AFTER_SECONDS

    assert admit(limits, **slow).verdict is Verdict.DROP
    assert admit(limits, **slow).verdict is Verdict.DROP
    assert limits.dropped("CP-1") == 2
    clock.advance(1.5)  # half a second to wait now: slowed, not dropped
    admission = admit(limits, **slow)
    assert (admission.verdict, admission.delay) == (Verdict.HANDLE, pytest.approx(0.5))


def test_several_sockets_of_one_station_share_its_bucket_and_get_dropped(limits):
    # Two connections each waiting for a token: the station's debt grows past a second.
    for _ in range(BURST):
        admit(limits)
    waits = [admit(limits).delay for _ in range(10)]  # none of them has slept yet
    assert waits[:10] == [pytest.approx(n / RATE) for n in range(1, 11)]
    assert admit(limits).verdict is Verdict.DROP  # it would wait 1.1 s


def test_answers_to_our_calls_are_never_dropped_nor_slowed_but_take_tokens(limits):
    for _ in range(BURST):
        admit(limits)
    for _ in range(30):
        assert admit(limits, answer=True) == NOW
    assert admit(limits).verdict is Verdict.DROP  # the answers used the tokens


def test_a_station_that_reconnects_keeps_its_bucket(limits, clock):
    # The bucket is the station's: a new socket (the same id) does not refill it.
    for _ in range(BURST):
        admit(limits, station="CP-FLOOD")
    clock.advance(0.05)  # disconnected and reconnected
    assert admit(limits, station="CP-FLOOD").delay == pytest.approx(0.05)
    assert admit(limits, station="CP-OTHER") == NOW  # other stations are not affected


def test_a_station_cut_off_that_comes_back_at_once_is_cut_off_at_its_first_wait(limits, clock):
    for _ in range(BURST):
        admit(limits)
    assert slowed_until_cut_off(limits, clock)[-1] is Verdict.DISCONNECT
    clock.advance(0.35)  # its handshake again: three tokens earned meanwhile

    # Served what it earned, then over the rate for more than MAX_DELAY still: cut off.
    assert [admit(limits).verdict for _ in range(4)] == [
        Verdict.HANDLE,
        Verdict.HANDLE,
        Verdict.HANDLE,
        Verdict.DISCONNECT,
    ]


def test_a_station_cut_off_starts_over_once_its_bucket_is_full_again(limits, clock):
    for _ in range(BURST):
        admit(limits)
    slowed_until_cut_off(limits, clock)
    clock.advance(BURST / RATE)  # away long enough to refill it

    assert [admit(limits) for _ in range(BURST)] == [NOW] * BURST
    assert slowed_until_cut_off(limits, clock) == [Verdict.HANDLE] * 20 + [Verdict.DISCONNECT]


def test_full_idle_buckets_are_forgotten_and_a_forgotten_one_starts_full(limits, clock):
    for station in ("CP-1", "CP-2", "CP-3"):
        admit(limits, station=station)
    assert len(limits) == 3
    clock.advance(61)  # all full again long ago
    admit(limits, station="CP-1")  # the next frame sweeps
    assert len(limits) == 1
    assert [admit(limits, station="CP-2") for _ in range(BURST)] == [NOW] * BURST


def test_a_bucket_still_refilling_is_kept(limits, clock):
    for _ in range(BURST):
        admit(limits, station="CP-SLOW", rate=0.01)
    clock.advance(61)  # 0.6 of a token back: not full
    admit(limits, station="CP-1", rate=0.01)
    assert len(limits) == 2


def test_drops_are_one_warning_per_station_per_minute_with_their_count(limits, scheduler, caplog):
    slow = {"rate": 0.5, "burst": 1}
    for station in ("CP-1", "CP-2"):
        admit(limits, station=station, **slow)
    for _ in range(7):
        admit(limits, station="CP-1", **slow)
    admit(limits, station="CP-2", **slow)

    assert [delay for delay, _ in scheduler.pending] == [REPORT_EVERY_SECONDS] * 2
    scheduler.run_all()

    assert [record.getMessage() for record in caplog.records] == [
        "CP-1: over the rate limit, 7 call(s) dropped in the last 60 s",
        "CP-2: over the rate limit, 1 call(s) dropped in the last 60 s",
    ]
    assert all(record.levelno == logging.WARNING for record in caplog.records)
    assert limits.dropped("CP-1") == 0
    admit(limits, station="CP-1", **slow)
    assert len(scheduler.pending) == 1  # a new minute's count


@pytest.mark.parametrize(
    ("text", "answer"),
    [
        ('[3,"a",{}]', True),
        (' [ 4, "a", "GenericError", "", {}]', True),
        ('[2,"a","Heartbeat",{}]', False),
        ('[33,"a",{}]', False),
        ("3", False),
        ("not json", False),
        ("", False),
    ],
)
def test_answers_are_told_from_their_first_characters(text, answer):
    assert is_an_answer(text) is answer
