import pytest

from tests.webhooks.receiver import Receiver
from webhooks import selectors


@pytest.fixture(autouse=True)
def listening_forgotten():
    """Each test's companies are asked afresh (tests reuse ids)."""
    selectors.listening_forget()
    yield
    selectors.listening_forget()


@pytest.fixture
def receiver():
    receiver = Receiver()
    yield receiver
    receiver.stop()
