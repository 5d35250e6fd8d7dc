"""Admin login throttling (django-axes): failed logins are limited per client address and per
user name, and the right password does not get through a lockout."""
import pytest
from django.contrib.auth import get_user_model

pytestmark = pytest.mark.django_db
PASSWORD = "a-long-pass-phrase"


@pytest.fixture
def reviewer(settings):
    settings.AXES_FAILURE_LIMIT = 5
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # fast, tests only
    return get_user_model().objects.create_user("reviewer", password=PASSWORD, is_staff=True)


def log_in(client, username, password, address):
    return client.post("/admin/login/?next=/admin/", {"username": username, "password": password},
                       REMOTE_ADDR=address)


def test_right_password_logs_in(client, reviewer):
    response = log_in(client, "reviewer", PASSWORD, "192.0.2.1")
    assert response.status_code == 302 and response["Location"] == "/admin/"


def test_failed_logins_lock_the_user_name_from_every_address(client, reviewer):
    for attempt in range(4):
        assert log_in(client, "reviewer", f"guess-{attempt}", f"192.0.2.{attempt}").status_code == 200
    assert log_in(client, "reviewer", "guess-4", "192.0.2.4").status_code == 429  # the 5th fails
    locked = log_in(client, "reviewer", PASSWORD, "198.51.100.9")
    assert locked.status_code == 429
    assert b"too many login attempts" in locked.content
    assert "_auth_user_id" not in client.session


def test_failed_logins_lock_the_client_address_for_every_user_name(client, reviewer):
    for attempt in range(4):
        assert log_in(client, f"someone-{attempt}", "guess", "192.0.2.1").status_code == 200
    assert log_in(client, "someone-4", "guess", "192.0.2.1").status_code == 429
    assert log_in(client, "reviewer", PASSWORD, "192.0.2.1").status_code == 429
    assert "_auth_user_id" not in client.session
    elsewhere = log_in(client, "reviewer", PASSWORD, "192.0.2.2")
    assert elsewhere.status_code == 302


def test_a_success_before_the_limit_resets_the_count(client, reviewer):
    for attempt in range(4):
        log_in(client, "reviewer", f"guess-{attempt}", "192.0.2.1")
    assert log_in(client, "reviewer", PASSWORD, "192.0.2.1").status_code == 302
    client.logout()
    for attempt in range(4):
        log_in(client, "reviewer", f"again-{attempt}", "192.0.2.1")
    assert log_in(client, "reviewer", PASSWORD, "192.0.2.1").status_code == 302
