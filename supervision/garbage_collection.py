"""Python's garbage collector, tuned for a server holding thousands of long-lived connections.

A collection stops the event loop for as long as it walks the objects of its generations (under
a microsecond each). With 5,000 stations connected the heap holds some two million objects: a full
collection of them was 0.5 to 0.9 s, a quarter of a boot storm's CPU (bench/README.md). What the
process loaded at start is frozen (``gc.freeze``: never walked again) and young collections come
every 20,000 net allocations instead of 700, a middle one after five young ones.

That left pauses of 100 to 300 ms in a steady fleet day (``gc.callbacks`` under the bench): the
count that triggers a young collection is allocations minus deallocations, so while a steady
traffic frees as much as it makes, the connections a storm opened since the last collection,
some 200,000 objects at 5,000 stations, stay young for minutes, until one collection walks them
all at once (and the next middle one again). So the survivors are frozen too, every
``GC_FREEZE_SECONDS``: the collector only ever walks the last second's objects.

A frozen object is still freed when the last reference to it goes; only garbage made of cycles
(a closed connection's objects referring to one another) waits, frozen, for the full collection
that runs every ``GC_FULL_COLLECTION_SECONDS`` over everything: one pause an hour, as long as
one of the old full collections.
"""

from __future__ import annotations

import asyncio
import gc
import time

YOUNG_THRESHOLD = 20_000
YOUNG_COLLECTIONS_PER_MIDDLE = 5
MIDDLE_COLLECTIONS_PER_FULL = 10


def tune() -> None:
    """At startup, once the application is loaded."""
    gc.freeze()
    gc.set_threshold(YOUNG_THRESHOLD, YOUNG_COLLECTIONS_PER_MIDDLE, MIDDLE_COLLECTIONS_PER_FULL)


async def freeze_survivors_forever(*, every: float, full_collection_every: float) -> None:
    """Freeze what survived, every ``every`` seconds; unfreeze everything and collect it every
    ``full_collection_every`` seconds (a task of the server's lifespan)."""
    full_collection_at = time.monotonic() + full_collection_every
    while True:
        await asyncio.sleep(every)
        if time.monotonic() >= full_collection_at:
            gc.unfreeze()
            gc.collect()
            full_collection_at = time.monotonic() + full_collection_every
        gc.freeze()
