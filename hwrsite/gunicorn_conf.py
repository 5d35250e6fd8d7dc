"""gunicorn settings of `make serve` (`gunicorn -c python:hwrsite.gunicorn_conf`).

gthread workers: each worker answers on THREADS threads, and a connection only takes a thread
once its first bytes arrived, so clients that connect and stay silent (or drip their headers)
hold a thread each, not a whole worker. Past a few dozen such clients only a buffering proxy
in front (nginx's default proxy_request_buffering) keeps them away: see README, "Running for
real". `timeout` restarts a worker stuck on one request.
"""
import os
from pathlib import Path

import environ

environ.Env.read_env(Path(__file__).resolve().parent.parent / ".env")

wsgi_app = "hwrsite.wsgi"
bind = [os.environ.get("HWR_BIND", "127.0.0.1:8000")]
workers = int(os.environ.get("WORKERS", "2"))
worker_class = "gthread"
threads = int(os.environ.get("THREADS", "8"))
# Seconds a worker may spend silent (one request, or a stuck one) before it is restarted.
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
graceful_timeout = 30
keepalive = 5
# Request line and headers well within what any browser sends.
limit_request_line = 4094
limit_request_fields = 100
limit_request_field_size = 8190
# No runtime control socket (~/.gunicorn/gunicorn.ctl, shared by every gunicorn of the user):
# nothing here uses gunicornc, and two servers on one host would fight over the path.
control_socket_disable = True


def on_starting(server):
    """Refuse to start on settings that cannot work: the settings' own refusals (no SECRET_KEY
    with DEBUG off), and several workers that would each count the rate limit on their own."""
    from django.core.exceptions import ImproperlyConfigured

    try:
        problem = per_process_rate_limit(server.cfg.workers)
    except ImproperlyConfigured as error:
        problem = str(error)
    if problem:
        server.log.error(problem)
        raise SystemExit(problem)
    for address in server.cfg.bind:
        if not is_loopback(address):
            server.log.warning(
                "serving on %s directly: clients that send slowly each hold a thread; on a "
                "public address put a buffering reverse proxy (nginx) in front and set "
                "HWR_TRUSTED_PROXIES (README, \"Running for real\")", address)


def is_loopback(address):
    """Whether a gunicorn bind address ("host:port", "unix:/path") is reachable only locally."""
    import ipaddress

    if address.startswith(("unix:", "fd://")):
        return True
    host = address.rsplit(":", 1)[0].strip("[]")
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def per_process_rate_limit(worker_count):
    """Why HWR_RATE_LIMIT would not hold with `worker_count` workers, or None when it does."""
    from django.conf import settings

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hwrsite.settings")
    backend = settings.CACHES["default"]["BACKEND"]
    if settings.HWR_RATE_LIMIT and worker_count > 1 and backend.endswith(("LocMemCache", "DummyCache")):
        return (
            f"HWR_RATE_LIMIT={settings.HWR_RATE_LIMIT} would be counted by each of the "
            f"{worker_count} workers on its own ({backend} is per process): set CACHE_URL to a "
            "cache they share (redis://host:6379/1, or filecache:///path on one host), or run "
            "one worker"
        )
    return None
