import pytest

from tests.extranet.notifications.receiver import Receiver


@pytest.fixture
def receiver():
    """A real HTTP receiver on 127.0.0.1 (receiver.py), for the webhooks."""
    with Receiver() as running:
        yield running
