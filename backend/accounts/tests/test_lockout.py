"""Login lock-out (django-axes, accounts/lockout.py) through the real view and
middleware: 10 failed logins for one username, or from one address, within the
lock-out time, and logging in is refused with a JSON 429, right password or not.
The same count across processes is tested end to end (tests/test_e2e_limits.py)."""

import json
import os
import subprocess
import sys
import time
from datetime import timedelta

import pytest
from django.conf import settings as django_settings
from django.contrib.auth import get_user_model
from django.test import Client

pytestmark = pytest.mark.django_db

PASSWORD = "correct horse battery staple"
HOME = "203.0.113.10"


@pytest.fixture
def alice():
    return get_user_model().objects.create_user(username="alice", password=PASSWORD)


def log_in(username="alice", password=PASSWORD, address=HOME, client=None, **headers):
    client = client or Client(enforce_csrf_checks=True, REMOTE_ADDR=address)
    client.get("/api/session")
    return client.post("/api/session", data=json.dumps({"username": username, "password": password}),
                       content_type="application/json", HTTP_X_CSRFTOKEN=client.cookies["csrftoken"].value,
                       **headers)


def fail(times: int, username="alice", address=HOME) -> list[int]:
    return [log_in(username, "wrong password", address).status_code for _ in range(times)]


def assert_locked(response) -> int:
    assert response.status_code == 429
    assert response["Content-Type"] == "application/json"
    assert set(response.json()) == {"error"} and "Too many failed logins" in response.json()["error"]
    assert "sessionid" not in response.cookies or not response.cookies["sessionid"].value
    return int(response["Retry-After"])


def test_ten_failures_lock_the_username_even_for_the_right_password(alice):
    # The failure that reaches the limit is already answered with the lock-out.
    assert fail(10) == [400] * 9 + [429]
    client = Client(enforce_csrf_checks=True, REMOTE_ADDR=HOME)
    retry_after = assert_locked(log_in(client=client))
    assert 895 <= retry_after <= 900
    assert client.get("/api/session").json() == {"user": None}


def test_the_username_lock_holds_from_every_address(alice):
    for n in range(10):
        fail(1, address=f"198.51.100.{n}")
    assert_locked(log_in(address="192.0.2.200"))
    # Those addresses made one failure each: another account logs in from them.
    get_user_model().objects.create_user(username="bob", password=PASSWORD)
    assert log_in("bob", address="198.51.100.0").status_code == 200


def test_ten_failures_from_one_address_lock_it_for_every_username(alice):
    for n in range(10):
        fail(1, username=f"guess{n}")
    assert_locked(log_in())
    # From elsewhere alice is fine: her username has no failures.
    assert log_in(address="192.0.2.7").status_code == 200


def test_x_forwarded_for_does_not_make_a_new_address(alice):
    codes = [log_in(f"guess{n}", "wrong", HTTP_X_FORWARDED_FOR=f"192.0.2.{n}").status_code for n in range(10)]
    assert codes == [400] * 9 + [429]
    assert_locked(log_in(HTTP_X_FORWARDED_FOR="192.0.2.99"))


def test_one_ipv6_network_is_one_address(alice):
    for n in range(10):
        fail(1, username=f"guess{n}", address=f"2001:db8:5:6::{n + 1}")
    assert_locked(log_in(address="2001:db8:5:6:abcd::1"))
    assert log_in(address="2001:db8:5:7::1").status_code == 200


def test_a_login_resets_the_failures_of_its_username(alice):
    assert fail(9) == [400] * 9
    assert log_in().status_code == 200
    assert fail(9) == [400] * 9
    assert fail(1) == [429]


def test_only_wrong_passwords_count(alice):
    assert all(log_in().status_code == 200 for _ in range(15))
    client = Client(enforce_csrf_checks=True, REMOTE_ADDR=HOME)
    client.get("/api/session")
    token = {"HTTP_X_CSRFTOKEN": client.cookies["csrftoken"].value}
    for body in (b"not json", b"{}", b'{"username": "alice"}', b'{"username": 1, "password": "x"}') * 5:
        assert client.post("/api/session", data=body, content_type="application/json", **token).status_code == 400
    assert fail(9) == [400] * 9


def test_tries_during_the_lock_out_do_not_extend_it(alice, settings):
    settings.AXES_COOLOFF_TIME = timedelta(seconds=2)
    assert fail(10)[-1] == 429
    time.sleep(1)
    assert_locked(log_in())
    assert fail(1) == [429]
    time.sleep(1.2)  # two seconds after the tenth failure, not after the later tries
    assert log_in().status_code == 200


def test_retry_after_counts_down_to_when_the_lock_lifts(alice, settings):
    settings.AXES_COOLOFF_TIME = timedelta(seconds=30)
    fail(10)
    time.sleep(2)
    assert 27 <= assert_locked(log_in()) <= 28


def test_an_overlong_username_is_counted_not_a_server_error(alice):
    codes = [log_in("x" * 5000, "wrong").status_code for _ in range(10)]
    assert codes == [400] * 9 + [429]


def test_login_limits_come_from_the_environment():
    env = {k: v for k, v in os.environ.items() if not k.startswith("CHAT_LOGIN")}
    env.update(DJANGO_SETTINGS_MODULE="config.settings", DJANGO_SECRET_KEY="probe",
               CHAT_LOGIN_FAILURE_LIMIT="3", CHAT_LOGIN_LOCKOUT="60", PYTHONPATH=str(django_settings.BACKEND_DIR))
    code = "import django; django.setup(); from django.conf import settings as s; " \
           "print(s.AXES_FAILURE_LIMIT, int(s.AXES_COOLOFF_TIME.total_seconds()), s.AXES_LOCKOUT_PARAMETERS)"
    result = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60)
    assert result.stdout.strip().splitlines()[-1] == "3 60 ['username', 'ip_address']", result.stderr
    env["CHAT_LOGIN_LOCKOUT"] = "soon"
    result = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode != 0 and "CHAT_LOGIN_LOCKOUT" in result.stderr
