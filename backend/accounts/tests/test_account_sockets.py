"""Deactivating or deleting a user, anywhere (the admin, a shell, a service),
closes all their sockets once the transaction commits: the close order reaches
a real (in-memory) channel layer here; every process of a Redis deployment in
tests/test_e2e_accounts.py."""

import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.contrib.auth import get_user_model
from django.db import transaction

from chat.events import user_group

pytestmark = pytest.mark.django_db


@pytest.fixture
def alice():
    return get_user_model().objects.create_user(username="alice", password="correct horse battery staple")


@pytest.fixture
def close_orders(alice):
    """The orders a process holding alice's sockets would receive."""
    layer = get_channel_layer()
    channel = async_to_sync(layer.new_channel)()
    async_to_sync(layer.group_add)(user_group(alice.pk), channel)

    def received() -> list[dict]:
        # What is waiting now; receive() only when it will not wait (the
        # in-memory layer keeps a channel's queue while it holds messages).
        orders = []
        while channel in layer.channels and not layer.channels[channel].empty():
            orders.append(async_to_sync(layer.receive)(channel))
        return orders

    return received


def every_socket_of(user) -> dict:
    return {"type": "user.close", "user": user.pk, "session_key": None, "keep_session_key": None, "kept_key_now": None}


def test_deactivating_closes_every_socket_after_commit(alice, close_orders, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks:
        alice.is_active = False
        alice.save()
        assert close_orders() == []  # not before the commit
    for callback in callbacks:
        callback()
    assert close_orders() == [every_socket_of(alice)]


def test_deleting_closes_every_socket_after_commit(alice, close_orders, django_capture_on_commit_callbacks):
    expected = every_socket_of(alice)
    with django_capture_on_commit_callbacks(execute=True):
        alice.delete()
    assert close_orders() == [expected]


def test_a_rolled_back_deactivation_closes_nothing(alice, close_orders, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        with pytest.raises(RuntimeError), transaction.atomic():
            alice.is_active = False
            alice.save()
            raise RuntimeError("changed my mind")
    assert callbacks == []
    assert close_orders() == []


@pytest.mark.parametrize("update_fields", [None, ["username"]])
def test_saving_an_active_user_closes_nothing(alice, close_orders, django_capture_on_commit_callbacks, update_fields):
    with django_capture_on_commit_callbacks(execute=True):
        alice.username = "alice2"
        alice.save(update_fields=update_fields)
    assert close_orders() == []


def test_saving_other_fields_of_an_inactive_user_closes_nothing_again(alice, close_orders,
                                                                     django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        alice.is_active = False
        alice.save(update_fields=["is_active"])
    assert close_orders() == [every_socket_of(alice)]
    with django_capture_on_commit_callbacks(execute=True):
        alice.save(update_fields=["last_login"])
    assert close_orders() == []
