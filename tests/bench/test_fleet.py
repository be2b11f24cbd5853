"""The bench's workload generators: the vehicles a realistic fleet brings to the stations
(issue 15: a bench that repeats one tag at one station measures a cache production rarely
hits), and a fleet day's traffic, against the reference server."""

import asyncio
from collections import Counter

import pytest

from bench import load, run, servers
from bench.fleet import Fleet, id_tag


def draws(fleet: Fleet, station: int, count: int) -> list[str]:
    return [fleet.next_tag(station) for _ in range(count)]


def test_no_station_sees_a_vehicle_twice_before_the_whole_fleet_has_plugged_in_there():
    fleet = Fleet(badges=400, stations=30)
    assert fleet.repeat_after == 500  # 400 enrolled, 100 outsiders
    for station in range(30):
        seen = draws(fleet, station, fleet.repeat_after)
        assert len(set(seen)) == fleet.repeat_after
    assert fleet.pairs_repeated() == 0
    # One draw more and the first vehicle is back at that station: counted, not hidden.
    assert fleet.next_tag(0) == Fleet(badges=400, stations=30).next_tag(0)
    assert fleet.pairs_repeated() == 1


def unknown_share(tags: list[str]) -> float:
    return sum(not Fleet.is_known(tag) for tag in tags) / len(tags)


def test_the_outsiders_are_well_formed_vehicles_refused_as_unknown_not_as_malformed():
    from badges.identifiers import normalize_id_tag

    fleet = Fleet(badges=40, stations=8)
    outsiders = [tag for tag in fleet.sequence if not Fleet.is_known(tag)]
    assert len(outsiders) == 10
    assert [normalize_id_tag(tag) for tag in outsiders] == outsiders  # raises if malformed


def test_moving_on_gives_every_server_the_same_vehicles_after_a_saturated_scenario():
    busy, slow = Fleet(badges=400, stations=30), Fleet(badges=400, stations=30)
    draws(busy, 3, 120)  # one server answered more Authorize than the other
    draws(slow, 3, 20)
    busy.move_on(0.5)
    slow.move_on(0.5)
    assert draws(busy, 3, 50) == draws(slow, 3, 50)
    assert draws(busy, 4, 5) == draws(slow, 4, 5)
    assert busy.pairs_repeated() == slow.pairs_repeated() == 0
    draws(busy, 3, 300)  # past the end of the sequence: back to the first vehicles seen
    assert busy.pairs_repeated() > 0


def test_a_fifth_of_the_vehicles_are_not_enrolled_at_each_station_and_at_first_plug_ins():
    fleet = Fleet(badges=5000, stations=5000)
    assert unknown_share(fleet.sequence) == 0.2  # over the whole fleet, exactly
    for station in (0, 17, 4999):  # along one station's plug-ins
        assert 0.17 <= unknown_share(draws(fleet, station, 1000)) <= 0.23
    # The first vehicle of every station (a fleet day's stations plug in once or twice): a
    # regular pattern of unknowns would alias with the stations' regular starting points.
    firsts = [Fleet(badges=5000, stations=5000).next_tag(station) for station in range(5000)]
    assert 0.17 <= unknown_share(firsts) <= 0.23


def test_the_enrolled_vehicles_are_those_the_seed_enrolls_and_stations_start_apart():
    fleet = Fleet(badges=40, stations=8)
    known = {tag for tag in fleet.sequence if Fleet.is_known(tag)}
    assert known == {id_tag(number) for number in range(40)}  # bench/seed.py's badges
    assert len(fleet.sequence) == len(set(fleet.sequence)) == 50
    firsts = [fleet.next_tag(station) for station in range(8)]
    assert fleet.sequence == Fleet(badges=40, stations=8).sequence  # the same on every server
    assert len(set(firsts)) == 8  # at one moment, different vehicles at different stations


def test_a_fleet_needs_badges_stations_and_a_share_below_one():
    for arguments in ({"badges": 0, "stations": 1}, {"badges": 1, "stations": 0}):
        with pytest.raises(ValueError):
            Fleet(**arguments)
    with pytest.raises(ValueError):
        Fleet(badges=10, stations=1, unknown_share=1)


def test_a_fleet_day_heartbeats_charges_a_share_and_starts_and_stops_sessions():
    """Against the reference server: the generator's traffic is what it says it is."""

    async def day() -> tuple[load.Day, load.Counters]:
        counters = load.Counters()
        with servers.running(lambda: servers.start_reference(100, 400)) as reference:
            stations, _, failures = await load.boot_storm(
                reference.url, range(100), counters, passwords=True
            )
            assert failures == 0 and stations[0].heartbeat_interval == 300  # as a portal says
            fleet = Fleet(badges=400, stations=100)
            result = await load.fleet_day(
                stations,
                lambda station: fleet.next_tag(station.number),
                seconds=2,
                heartbeat_interval=0.5,
                meter_interval=0.25,
                charging_share=0.2,
                session_seconds=0.5,
                probe=reference.cpu_seconds,
            )
            await asyncio.gather(*(station.close() for station in stations))
        return result, counters

    result, counters = asyncio.run(day())

    assert result.errors == 0
    heartbeats = len(result.latencies["Heartbeat"])
    assert 100 * 2 / 0.5 - 100 <= heartbeats <= 100 * 2 / 0.5 + 100  # every station, each 0.5 s
    # A fifth of the stations charging, on average over the window (100 stations: roughly).
    charging = sum(result.charging_samples) / len(result.charging_samples)
    assert len(result.charging_samples) == 2 and 10 <= charging <= 32
    assert result.started > 0 and result.stopped > 0 and result.refused > 0
    assert result.latencies["MeterValues"] and result.latencies["StopTransaction"]
    assert result.started >= result.stopped
    cpu_before, cpu_after = result.probes
    assert cpu_after >= cpu_before and 1.9 < result.measured_seconds < 3
    actions = Counter(action for _, _, action in counters.calls)
    assert not actions  # the reference makes no calls of its own


def test_the_table_says_whether_each_target_is_met():
    portal, reference = run.Figures(), run.Figures()
    portal["authorize_per_s"], reference["authorize_per_s"] = 900.0, 3000.0
    portal["storm_s"], reference["storm_s"] = 12.0, 3.0
    portal["day_calls"], reference["day_calls"] = 10.0, 12.0
    rows = {row["key"]: row for row in run.results(portal, reference)}
    assert rows["authorize_per_s"]["met"] is False and rows["authorize_per_s"]["ratio"] == 0.3
    assert rows["storm_s"]["met"] is True and rows["storm_s"]["ratio"] == 4
    assert rows["day_calls"]["ratio"] is None  # a count: no ratio
    assert "kib_per_station" not in rows  # not measured: not in the table
    assert "| 2 Authorize throughput, realistic fleet, logged (/s) | 900 | 3000 | 0.30 |" in (
        run.table(list(rows.values()))
    )


def test_a_profile_summary_names_where_the_samples_went(tmp_path):
    from bench import profile

    stacks = tmp_path / "portal-2.txt"
    stacks.write_text(
        "thread (1): loop;main (a.py:1);authorize (b.py:2) 30\n"
        "thread (1): loop;main (a.py:1);log (c.py:3) 10\n"
        "thread (2): db;query (d.py:4) 60\n"
    )
    text = profile.summary(stacks, top=6)
    assert text.startswith("portal-2.txt: 100 samples")
    own, inclusive = text.split("  inclusive:")
    assert own.splitlines()[2:] == [
        "     60.0 %  query (d.py:4)",
        "     30.0 %  authorize (b.py:2)",
        "     10.0 %  log (c.py:3)",
    ]
    assert inclusive.splitlines()[1:] == [  # the threads apart: the loop 40 %, the database 60 %
        "     60.0 %  thread (2): db",
        "     60.0 %  query (d.py:4)",
        "     40.0 %  thread (1): loop",
        "     40.0 %  main (a.py:1)",
        "     30.0 %  authorize (b.py:2)",
        "     10.0 %  log (c.py:3)",
    ]
