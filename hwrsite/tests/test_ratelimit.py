"""The rate limit: every POST route, per real client address, shared by all workers, and a
cache outage that lets requests through (with a warning) instead of failing them."""
import logging
import socket
import uuid

import pytest
from django.core.cache import cache
from django.test import RequestFactory

from hwrsite.ratelimit import client_address, parse_rate
from testing.servers import free_port

pytestmark = pytest.mark.django_db
LIMIT = 3
POST_ROUTES = ["/submit", "/upload", "/feedback", "/feedback/word", "/challenge/next",
               "/challenge/answer", "/api/v1/predict", f"/api/v1/samples/{uuid.uuid4()}/feedback",
               f"/api/v1/words/{uuid.uuid4()}/feedback", "/admin/login/"]


@pytest.fixture
def limited(settings):
    settings.HWR_RATE_LIMIT = f"{LIMIT}/min"
    settings.HWR_TRUSTED_PROXIES = 0
    cache.clear()
    return settings


def post(client, path, address="192.0.2.1", **headers):
    return client.post(path, "{}", content_type="application/json", REMOTE_ADDR=address, **headers)


@pytest.mark.parametrize("path", POST_ROUTES)
def test_every_post_route_is_limited_per_client(client, limited, path):
    statuses = [post(client, path).status_code for _ in range(LIMIT)]
    assert 429 not in statuses
    refused = post(client, path)
    assert refused.status_code == 429
    assert refused.json()["error"].startswith("too many requests")
    assert 0 < int(refused["Retry-After"]) <= 2 * 60
    assert post(client, path).status_code == 429, "refused requests do not count, but still refused"
    assert post(client, path, address="192.0.2.2").status_code != 429  # another client


def test_the_limit_is_shared_by_all_post_routes_and_pages_are_not_limited(client, limited):
    for path in POST_ROUTES[:LIMIT]:
        assert post(client, path).status_code != 429
    assert post(client, "/feedback").status_code == 429
    assert client.get("/draw/", REMOTE_ADDR="192.0.2.1").status_code == 200


def test_spoofed_forwarded_for_is_ignored_without_trusted_proxies(client, limited):
    statuses = [post(client, "/api/v1/predict", HTTP_X_FORWARDED_FOR=f"198.51.100.{n}").status_code
                for n in range(LIMIT + 5)]
    assert statuses[LIMIT:] == [429] * 5


def test_behind_one_proxy_the_address_it_saw_counts_not_what_the_client_wrote(client, limited):
    limited.HWR_TRUSTED_PROXIES = 1
    proxy = "10.0.0.5"
    # The client writes any X-Forwarded-For; the proxy appends the address it was connected from.
    statuses = [post(client, "/api/v1/predict", address=proxy,
                     HTTP_X_FORWARDED_FOR=f"198.51.100.{n}, 203.0.113.7").status_code
                for n in range(LIMIT + 5)]
    assert statuses[LIMIT:] == [429] * 5
    other = post(client, "/api/v1/predict", address=proxy, HTTP_X_FORWARDED_FOR="203.0.113.8")
    assert other.status_code != 429


@pytest.mark.parametrize("proxies, forwarded, expected", [
    (0, "198.51.100.1", "192.0.2.1"),
    (1, "198.51.100.1, 203.0.113.7", "203.0.113.7"),
    (2, "198.51.100.1, 203.0.113.7, 10.0.0.2", "203.0.113.7"),
    (2, "203.0.113.7", "203.0.113.7"),  # fewer entries than proxies: the first one
    (1, "not-an-address", "192.0.2.1"),
    (1, "", "192.0.2.1"),
])
def test_client_address(settings, proxies, forwarded, expected):
    settings.HWR_TRUSTED_PROXIES = proxies
    request = RequestFactory().post("/submit", REMOTE_ADDR="192.0.2.1", HTTP_X_FORWARDED_FOR=forwarded)
    assert client_address(request) == expected


def test_a_burst_straddling_two_windows_is_limited_by_the_sliding_window(client, limited, monkeypatch):
    clock = [6000.0 - 1]  # one second before a minute's window ends
    monkeypatch.setattr("hwrsite.ratelimit.time.time", lambda: clock[0])
    assert [post(client, "/submit").status_code for _ in range(LIMIT)] == [400] * LIMIT
    clock[0] += 2  # the next window has begun: the last one still weighs 59/60
    refused = post(client, "/submit")
    assert refused.status_code == 429
    # The last window's 3 weigh 3 * (1 - elapsed / 60); one more fits once that is 2 or less.
    assert int(refused["Retry-After"]) == 19
    clock[0] += 18
    assert post(client, "/submit").status_code == 429
    clock[0] += 1
    assert post(client, "/submit").status_code == 400
    assert post(client, "/submit").status_code == 429


def test_rates_are_parsed_and_a_wrong_one_is_refused():
    assert parse_rate("120/min") == (120, 60)
    assert parse_rate("10/s") == (10, 1)
    assert parse_rate("1000/hour") == (1000, 3600)
    assert parse_rate("5/10m") == (5, 600)
    with pytest.raises(Exception, match="is not a rate"):
        parse_rate("lots")


def redis_available():
    try:
        socket.create_connection(("127.0.0.1", 6379), timeout=1).close()
        return True
    except OSError:
        return False


@pytest.mark.skipif(not redis_available(), reason="no Redis on 127.0.0.1:6379")
def test_limit_counted_in_real_redis(client, limited):
    limited.CACHES = {"default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": "redis://127.0.0.1:6379/15",
        "KEY_PREFIX": f"test-{uuid.uuid4().hex}",
    }}
    statuses = [post(client, "/api/v1/predict").status_code for _ in range(LIMIT + 2)]
    assert statuses[LIMIT:] == [429, 429]
    cache.clear()


def test_cache_outage_lets_requests_through_with_a_warning(client, limited, caplog):
    limited.CACHES = {"default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": f"redis://127.0.0.1:{free_port()}/0",  # nothing listens there
        "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
    }}
    with caplog.at_level(logging.WARNING, logger="hwrsite.ratelimit"):
        responses = [post(client, "/api/v1/predict") for _ in range(LIMIT + 2)]
        feedback = post(client, "/feedback")
    assert [r.status_code for r in responses] == [400] * (LIMIT + 2)
    assert all(r.json()["error"] for r in responses)
    assert feedback.status_code == 400 and feedback.json()["error"]
    warnings = [r for r in caplog.records if "rate limit not enforced" in r.getMessage()]
    assert len(warnings) == 1, "logged once, not once per request"
    assert "ConnectionError" in warnings[0].getMessage()
