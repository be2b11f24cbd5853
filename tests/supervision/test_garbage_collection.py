"""The garbage collector's tuning: survivors frozen, cycles still reclaimed by the full
collection that comes now and then."""

import asyncio
import gc
import weakref

import pytest

from supervision.garbage_collection import freeze_survivors_forever


class Node:
    """An object of a reference cycle, as a closed connection's objects are."""

    def __init__(self) -> None:
        self.me = self


@pytest.fixture
def freezing():
    """Runs the task; afterwards what it froze is unfrozen, as the test process had it."""
    tasks = []

    def start(**intervals):
        tasks.append(asyncio.create_task(freeze_survivors_forever(**intervals)))

    yield start
    for task in tasks:
        task.cancel()
    gc.unfreeze()


def _is_walked(obj) -> bool:
    return any(obj is other for other in gc.get_objects())


async def test_survivors_are_frozen_and_cyclic_garbage_waits_for_the_full_collection(freezing):
    survivor, garbage = Node(), Node()
    reference = weakref.ref(garbage)
    frozen_before = gc.get_freeze_count()
    freezing(every=0.01, full_collection_every=0.5)
    await asyncio.sleep(0.05)

    assert gc.get_freeze_count() > frozen_before
    assert not _is_walked(survivor)
    del garbage
    gc.collect()
    assert reference() is not None  # frozen: no collection walks it

    for _ in range(100):
        await asyncio.sleep(0.02)
        if reference() is None:
            break
    assert reference() is None  # the full collection reclaimed the cycle
    assert not _is_walked(survivor)  # and froze the survivors again


async def test_a_frozen_object_without_cycles_is_freed_at_its_last_reference(freezing):
    class Plain:
        pass

    plain = Plain()
    reference = weakref.ref(plain)
    freezing(every=0.01, full_collection_every=3600)
    await asyncio.sleep(0.05)
    assert not _is_walked(plain)
    del plain
    assert reference() is None
