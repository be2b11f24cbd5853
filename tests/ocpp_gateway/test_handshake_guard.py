"""The lockout of failed station logins, on its own clock: no database, no server."""

import pytest

from ocpp_gateway.transport.handshake_guard import HandshakeGuard


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def guard(clock):
    return HandshakeGuard(
        failures_allowed=5, lockout_seconds=60, max_lockout_seconds=3600, clock=clock
    )


def fail(guard, times, charge_point_id="CP-1", address="198.51.100.9", known_good=False):
    for _ in range(times):
        guard.failed(charge_point_id=charge_point_id, address=address, known_good=known_good)


def wait(guard, charge_point_id="CP-1", address="198.51.100.9", known_good=False):
    return guard.retry_after(
        charge_point_id=charge_point_id, address=address, known_good=known_good
    )


def test_four_failures_are_allowed_and_the_fifth_locks_for_a_minute(guard):
    fail(guard, 4)
    assert wait(guard) == 0

    fail(guard, 1)

    assert wait(guard) == 60


def test_the_lockout_ends_and_doubles_at_each_new_one_up_to_an_hour(guard, clock):
    lockouts = []
    for _ in range(8):
        fail(guard, 5)
        lockouts.append(wait(guard))
        clock.now += wait(guard)
        assert wait(guard) == 0
    assert lockouts == [60, 120, 240, 480, 960, 1920, 3600, 3600]


def test_an_hour_without_failures_forgets_them(guard, clock):
    fail(guard, 4)
    clock.now += 3601

    fail(guard, 1)

    assert wait(guard) == 0


def test_guesses_from_elsewhere_do_not_lock_the_station_out_of_its_own_address(guard):
    fail(guard, 5, address="203.0.113.1")

    assert wait(guard, address="203.0.113.2") == 60  # the id is locked for others
    assert wait(guard, address="198.51.100.9", known_good=True) == 0  # not from its own


def test_one_address_trying_many_ids_is_locked_for_every_id(guard):
    for number in range(5):
        fail(guard, 1, charge_point_id=f"CP-{number}", address="203.0.113.7")

    assert wait(guard, charge_point_id="CP-99", address="203.0.113.7") == 60
    assert wait(guard, charge_point_id="CP-99", address="203.0.113.8") == 0


def test_a_known_good_pair_has_its_own_limit(guard):
    fail(guard, 5, known_good=True)

    assert wait(guard, known_good=True) == 60
    assert wait(guard, address="203.0.113.3") == 0  # the id itself was not locked


def test_a_success_clears_the_station_s_counters_but_not_its_address_s(guard):
    for number in range(4):
        fail(guard, 1, charge_point_id=f"CP-{number}")
    guard.succeeded(charge_point_id="CP-1", address="198.51.100.9")

    fail(guard, 1, charge_point_id="CP-9")

    assert wait(guard, charge_point_id="CP-9") == 60


def test_refusals_are_reported_per_station_and_unknown_ids_per_address(guard):
    for reason in ("wrong password", "wrong password", "locked out"):
        guard.note(station_id=7, charge_point_id="CP-7", address="203.0.113.1", reason=reason)
    guard.note(station_id=None, charge_point_id="X1", address="203.0.113.1", reason="unknown")
    guard.note(station_id=None, charge_point_id="X2", address="203.0.113.1", reason="unknown")

    reports = {(r.station_id, r.address): r for r in guard.take_reports()}

    assert reports[(7, "")].attempts == 3
    assert reports[(7, "")].reasons == {"wrong password": 2, "locked out": 1}
    assert reports[(None, "203.0.113.1")].charge_point_ids == {"X1": 1, "X2": 1}
    assert guard.take_reports() == []
