"""Sign-ups per client address (CHAT_SIGNUP_RATE), through the real view and
a real Redis: the Django test client runs each request's limiter on a new
event loop, so only a limit kept outside the process shows here. One process
on the in-memory limiter is covered end to end (tests/test_e2e_limits.py)."""

import json

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import ImproperlyConfigured
from django.test import Client, RequestFactory

from accounts.limits import client_address
from chat.ratelimit import check_settings

pytestmark = pytest.mark.django_db

PASSWORD = "correct horse battery staple"


@pytest.fixture
def redis_limits(settings, redis_url):  # noqa: F811
    settings.REDIS_URL = redis_url
    settings.CHAT_SIGNUP_RATE = "5/3600s"


def sign_up(username: str, address: str, **headers):
    client = Client(enforce_csrf_checks=True, REMOTE_ADDR=address)
    client.get("/api/session")
    return client.post("/api/users", data=json.dumps({"username": username, "password": PASSWORD}),
                       content_type="application/json", HTTP_X_CSRFTOKEN=client.cookies["csrftoken"].value,
                       **headers)


def test_five_sign_ups_an_hour_per_address_then_429_with_retry_after(redis_limits):
    for n in range(5):
        assert sign_up(f"user{n}", "203.0.113.7").status_code == 201
    refused = sign_up("sixth", "203.0.113.7")
    assert refused.status_code == 429
    assert refused["Content-Type"] == "application/json"
    assert set(refused.json()) == {"error"} and refused.json()["error"]
    assert 3590 <= int(refused["Retry-After"]) <= 3600
    # A refused sign-up creates nothing, and leaves no session behind.
    assert not get_user_model().objects.filter(username="sixth").exists()
    assert get_user_model().objects.count() == 5
    # Other addresses are not limited by this one.
    assert sign_up("elsewhere", "198.51.100.1").status_code == 201


def test_x_forwarded_for_does_not_make_a_new_address(redis_limits):
    for n in range(5):
        assert sign_up(f"user{n}", "203.0.113.7", HTTP_X_FORWARDED_FOR=f"192.0.2.{n}").status_code == 201
    assert sign_up("sixth", "203.0.113.7", HTTP_X_FORWARDED_FOR="192.0.2.99").status_code == 429


def test_one_ipv6_network_is_one_address(redis_limits):
    for n in range(5):
        assert sign_up(f"user{n}", f"2001:db8:1:2::{n + 1}").status_code == 201
    assert sign_up("sixth", "2001:db8:1:2:ffff::9").status_code == 429
    assert sign_up("other", "2001:db8:1:3::1").status_code == 201


def test_failed_sign_ups_count_but_malformed_bodies_do_not(redis_limits):
    client = Client(enforce_csrf_checks=True, REMOTE_ADDR="203.0.113.8")
    client.get("/api/session")
    token = {"HTTP_X_CSRFTOKEN": client.cookies["csrftoken"].value}
    for _ in range(3):
        assert client.post("/api/users", data="not json", content_type="application/json", **token).status_code == 400
    for _ in range(5):  # a weak password: refused by the validators, and counted
        r = client.post("/api/users", data=json.dumps({"username": "weak", "password": "1"}),
                        content_type="application/json", **token)
        assert r.status_code == 400 and "password" in r.json()["fields"]
    assert sign_up("finally", "203.0.113.8").status_code == 429


def test_a_bad_signup_rate_stops_the_server_at_startup(settings):
    settings.CHAT_SIGNUP_RATE = "five an hour"
    with pytest.raises(ImproperlyConfigured, match="CHAT_SIGNUP_RATE"):
        check_settings()


@pytest.mark.parametrize(
    ("remote_addr", "address"),
    [
        ("203.0.113.7", "203.0.113.7"),
        ("2001:db8:1:2:3:4:5:6", "2001:db8:1:2::"),
        ("::ffff:192.0.2.1", "192.0.2.1"),
        ("", None),
        ("not an address", None),
    ],
)
def test_client_address(remote_addr, address):
    request = RequestFactory().get("/", REMOTE_ADDR=remote_addr, HTTP_X_FORWARDED_FOR="198.51.100.9")
    assert client_address(request) == address


def test_an_empty_sign_up_form_does_not_count(redis_limits):
    client = Client(enforce_csrf_checks=True, REMOTE_ADDR="203.0.113.9")
    client.get("/api/session")
    token = {"HTTP_X_CSRFTOKEN": client.cookies["csrftoken"].value}
    for _ in range(6):
        r = client.post("/api/users", data=json.dumps({"username": " ", "password": ""}),
                        content_type="application/json", **token)
        assert r.status_code == 400 and r.json()["error"] == "Enter your username and password."
    assert sign_up("finally", "203.0.113.9").status_code == 201
