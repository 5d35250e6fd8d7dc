"""The client's address behind trusted proxies, and the rate limit of every POST route.

Every POST (the pages' /submit, /upload, /feedback, /challenge/*, the API, the admin) counts
against one limit per client address, HWR_RATE_LIMIT, in the default cache: the limit holds for
the whole site only when every worker counts in the same cache (Redis, or a file cache on one
host); `hwrsite.gunicorn` refuses to start several workers on a per-process cache.
"""
import ipaddress
import logging
import math
import re
import time

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ImproperlyConfigured
from django.http import JsonResponse

logger = logging.getLogger(__name__)

PERIODS = {"s": 1, "sec": 1, "second": 1, "m": 60, "min": 60, "minute": 60,
           "h": 3600, "hour": 3600, "d": 86400, "day": 86400}
# A cache outage is logged at most this often per process, not once per request.
OUTAGE_LOG_INTERVAL_SECONDS = 60


def client_address(request):
    """The address the outermost of HWR_TRUSTED_PROXIES proxies received the request from.

    Each trusted proxy appends the address it was connected from to X-Forwarded-For, so the
    client's own entries (anything it likes) stay to the left of the trusted ones and are never
    read. Without trusted proxies the header is ignored.
    """
    remote = request.META.get("REMOTE_ADDR", "")
    proxies = settings.HWR_TRUSTED_PROXIES
    if proxies > 0:
        forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
        forwarded = [part for part in forwarded if part]
        if forwarded:
            candidate = forwarded[-min(proxies, len(forwarded))]
            try:
                return str(ipaddress.ip_address(candidate))
            except ValueError:
                logger.warning("X-Forwarded-For entry %r from a trusted proxy is not an address",
                               candidate[:64])
    return remote


def parse_rate(rate):
    """"120/min" -> (120, 60): requests allowed per period of seconds."""
    match = re.fullmatch(r"\s*(\d+)\s*/\s*(\d*)\s*([a-z]+)\s*", rate.lower())
    if not match or match.group(3) not in PERIODS or int(match.group(1)) < 1:
        raise ImproperlyConfigured(
            f"HWR_RATE_LIMIT={rate!r} is not a rate: write requests per period, e.g. 120/min, "
            "10/s, 1000/hour or 5000/day (empty for no limit)"
        )
    return int(match.group(1)), int(match.group(2) or 1) * PERIODS[match.group(3)]


class RateLimitMiddleware:
    """Answer 429 (JSON, with Retry-After) to a client over HWR_RATE_LIMIT POST requests.

    Counted in the default cache as a sliding window: this window's count plus the previous
    window's, weighted by how much of it still overlaps the last period (fixed windows alone
    would let a burst straddling a boundary through at twice the limit). If the cache fails,
    requests go through unlimited and a warning is logged: an outage of the counter must not
    take the site down.
    """

    def __init__(self, get_response):
        self.get_response = get_response
        self.rate = parse_rate(settings.HWR_RATE_LIMIT) if settings.HWR_RATE_LIMIT else None
        self.last_outage_log = -math.inf

    def __call__(self, request):
        if self.rate is None or request.method != "POST":
            return self.get_response(request)
        limit, period = self.rate
        now = time.time()
        window, elapsed = divmod(now, period)
        prefix = f"hwr-rate:{client_address(request)}:{period}:"
        try:
            count, previous = self._count(prefix, int(window), period)
        except Exception as error:  # any backend's failure (Redis down, disk full, ...)
            self._log_outage(error)
            return self.get_response(request)
        if previous * (1 - elapsed / period) + count > limit:
            self._uncount(prefix, int(window))  # a refused request does not count
            wait = max(1, math.ceil(round(_wait(limit, period, elapsed, count, previous), 6)))
            return JsonResponse(
                {"error": f"too many requests: at most {settings.HWR_RATE_LIMIT} from one "
                          f"address; try again in {wait} s"},
                status=429, headers={"Retry-After": str(wait)},
            )
        return self.get_response(request)

    @staticmethod
    def _count(prefix, window, period):
        """(requests in this window, this one included; requests in the previous window)."""
        key = f"{prefix}{window}"
        cache.add(key, 0, timeout=2 * period + 1)
        try:
            count = cache.incr(key)
        except ValueError:  # the key expired between add and incr
            cache.set(key, 1, timeout=2 * period + 1)
            count = 1
        return count, cache.get(f"{prefix}{window - 1}", 0)

    @staticmethod
    def _uncount(prefix, window):
        try:
            cache.decr(f"{prefix}{window}")
        except Exception:  # expired meanwhile, or the cache failed: nothing to undo
            pass

    def _log_outage(self, error):
        now = time.monotonic()
        if now - self.last_outage_log >= OUTAGE_LOG_INTERVAL_SECONDS:
            self.last_outage_log = now
            logger.warning(
                "rate limit not enforced: the cache (CACHE_URL) failed: %s: %s; POST requests "
                "go through unlimited until it is back", type(error).__name__, error,
            )


def _wait(limit, period, elapsed, count, previous):
    """Seconds until one more request fits: `count` is this window's count with the refused
    request, i.e. what the next one would make it."""
    if count <= limit and previous:
        wait = (1 - (limit - count) / previous) * period - elapsed
        if wait < period - elapsed:
            return wait
    # In the next window this one's accepted requests are the previous ones, weighing less as
    # it passes, and the next request is the first of its own.
    accepted = count - 1
    share = max(0.0, 1 - (limit - 1) / accepted) if accepted else 0.0
    return period - elapsed + share * period
