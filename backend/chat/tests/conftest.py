"""Fixtures any chat test may use: users made through the real user model."""

import itertools
from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth import get_user_model

_numbers = itertools.count(1)


@pytest.fixture
def user_factory(db: None) -> Callable[..., Any]:
    """make_user(username=None, password="pw-for-tests-only") -> a saved user."""

    def make_user(username: str | None = None, password: str = "pw-for-tests-only") -> Any:
        return get_user_model().objects.create_user(username=username or f"user{next(_numbers)}", password=password)

    return make_user


@pytest.fixture
def user(user_factory: Callable[..., Any]) -> Any:
    return user_factory("alice")


@pytest.fixture
def other_user(user_factory: Callable[..., Any]) -> Any:
    return user_factory("bob")
