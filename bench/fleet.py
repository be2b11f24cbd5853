"""Who plugs in where: the vehicles of a realistic fleet, drawn for the bench's stations.

Real stations send a vehicle's tag once per plug-in, and a vehicle goes from station to station:
the pair (tag, station) comes back hours later, never seconds. The per-process authorization
cache of the portal answers a pair it saw in the last seconds from memory; a bench that repeats
one tag at one station measures that cache, not what production does (issue 15).

:class:`Fleet` is ``badges`` enrolled vehicles (the tags ``bench/seed.py`` enrolls) and a
quarter as many outsiders (``VID:`` tags enrolled nowhere: the portal refuses them, records the
refusal and the sighting), so that 20 % of the plug-ins are unknown vehicles. All of them in one
fixed sequence, shuffled once (a fixed seed: every server gets the same traffic); each station
walks that sequence from its own starting point, so a station sees a given vehicle again only
after the whole fleet has plugged in there (``repeat_after`` draws), and at any moment the
stations see different vehicles.
Pure and deterministic: tested in ``tests/bench/test_fleet.py``.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

UNKNOWN_SHARE = 0.2
SEED = 15


def id_tag(number: int) -> str:
    """The Autocharge badge of enrolled vehicle ``number`` (a locally administered MAC)."""
    return f"VID:0200{number:08X}"


def unknown_tag(number: int) -> str:
    """A vehicle enrolled nowhere (another prefix: never one of ``id_tag``'s), with a vehicle's
    address: unicast and locally administered, as ``id_tag``'s (0x03 was a multicast address,
    which the portal refuses as malformed before it looks for a badge)."""
    return f"VID:0600{number:08X}"


@dataclass
class Fleet:
    badges: int  # enrolled vehicles: id_tag(0) … id_tag(badges - 1)
    stations: int
    unknown_share: float = UNKNOWN_SHARE
    sequence: list[str] = field(init=False, repr=False)
    _cursors: dict[int, int] = field(init=False, repr=False, default_factory=dict)
    _seen: dict[int, set[int]] = field(init=False, repr=False, default_factory=dict)
    _repeats: int = field(init=False, repr=False, default=0)

    def __post_init__(self) -> None:
        if self.badges < 1 or self.stations < 1 or not 0 <= self.unknown_share < 1:
            raise ValueError("a fleet needs badges, stations and an unknown share in [0, 1)")
        unknown = round(self.badges * self.unknown_share / (1 - self.unknown_share))
        self.sequence = [id_tag(number) for number in range(self.badges)]
        self.sequence += [unknown_tag(number) for number in range(unknown)]
        # Shuffled, not interleaved every fifth: stations start at regular offsets, and a
        # regular pattern would give some of them only known vehicles for their first sessions.
        random.Random(SEED).shuffle(self.sequence)

    @property
    def repeat_after(self) -> int:
        """Draws at one station before it sees a vehicle it has seen already."""
        return len(self.sequence)

    def _start(self, station: int) -> int:
        # Stations spread over the sequence: at one moment, each sees other vehicles.
        return (station % self.stations) * len(self.sequence) // self.stations

    def next_tag(self, station: int) -> str:
        """The next vehicle plugging in at station number ``station``."""
        cursor = self._cursors.get(station)
        if cursor is None:
            cursor = self._start(station)
        self._cursors[station] = (cursor + 1) % len(self.sequence)
        seen = self._seen.setdefault(station, set())
        self._repeats += cursor in seen
        seen.add(cursor)
        return self.sequence[cursor]

    def move_on(self, fraction: float) -> None:
        """Every station on to ``fraction`` of the sequence past its starting point, whatever
        it drew so far: a scenario after a saturated one (which drew as many vehicles as each
        server could answer) gets the same vehicles on every server."""
        offset = int(fraction * len(self.sequence))
        for station in range(self.stations):
            self._cursors[station] = (self._start(station) + offset) % len(self.sequence)

    def pairs_repeated(self) -> int:
        """Draws that gave a station a vehicle it had seen already (0 in a realistic run)."""
        return self._repeats

    @staticmethod
    def is_known(tag: str) -> bool:
        return tag.startswith("VID:0200")
