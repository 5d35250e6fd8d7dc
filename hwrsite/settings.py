"""Settings for hwr, read from the environment (and an optional `.env`).

Defaults are safe for development: SQLite, DEBUG on, the bundled models.
Production sets DEBUG=False, SECRET_KEY, ALLOWED_HOSTS and DATABASE_URL.
"""
import os
import tempfile
from datetime import timedelta
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env")

DEBUG = env.bool("DEBUG", default=True)
# Without DEBUG a key must be given: a default would be public, and sessions and CSRF tokens
# signed with it forgeable.
SECRET_KEY = env("SECRET_KEY", default="")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "SECRET_KEY is not set: with DEBUG off the app refuses to start on a public key. Set "
            "SECRET_KEY to a long random string, e.g. the output of python3 -c \"import secrets; "
            "print(secrets.token_urlsafe(50))\"."
        )
    SECRET_KEY = "django-insecure-development-only-key-change-me-in-production-0123456789"
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
CSRF_FAILURE_VIEW = "hwrsite.views.csrf_failure"

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "ninja",
    "axes",
    "recognition",
    "feedback",
    "ml",
    "challenge",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "hwrsite.ratelimit.RateLimitMiddleware",
    "hwrsite.middleware.BodySizeLimitMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "hwrsite.urls"
WSGI_APPLICATION = "hwrsite.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
# Keep each worker's connection between requests (opening one, and SQLite's PRAGMAs, cost more
# than a prediction); a connection that broke meanwhile is replaced, not used.
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Concurrent writers wait for the lock instead of failing at once: IMMEDIATE takes the write
    # lock at BEGIN, so a transaction that read first cannot fail with "database is locked" when
    # it later writes; WAL lets readers proceed alongside the writer. synchronous=NORMAL is
    # SQLite's advice for WAL: no fsync per commit, still safe against process crashes.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        timeout=20,
        transaction_mode="IMMEDIATE",
        init_command="PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    )
    # Tests use a file, not Django's shared in-memory database: the live server's threads then
    # each have their own connection, as gunicorn's do, instead of interleaving savepoints on one.
    # One file per test run, so that two runs in one checkout do not share a database.
    DATABASES["default"]["TEST"] = {"NAME": str(BASE_DIR / f"test-db-{os.getpid()}.sqlite3")}
# The cache counts POST requests for the rate limit; with more than one worker it must be one
# they all share (redis://..., or filecache:///path on a single host).
CACHES = {"default": env.cache("CACHE_URL", default="locmemcache://")}
if CACHES["default"]["BACKEND"] == "django.core.cache.backends.redis.RedisCache":
    # A Redis that is down or unreachable must cost a request milliseconds, not a hung worker.
    CACHES["default"].setdefault("OPTIONS", {}).update(
        socket_connect_timeout=env.float("CACHE_TIMEOUT_SECONDS", default=0.5),
        socket_timeout=env.float("CACHE_TIMEOUT_SECONDS", default=0.5),
    )
# POST requests allowed per client address, all POST routes together, e.g. "120/min"
# (empty: no limit).
HWR_RATE_LIMIT = env("HWR_RATE_LIMIT", default="")
# How many reverse proxies in front of the app append to X-Forwarded-For. The client address is
# the one the outermost of them saw; 0 (no proxy) uses the connection's address and ignores the
# header, which any client can write.
HWR_TRUSTED_PROXIES = env.int("HWR_TRUSTED_PROXIES", default=0)
# Challenge drawings are accepted without review only when the model's best guess is the prompt,
# ahead of the next character by at least this much probability; the others wait for review.
HWR_CHALLENGE_MIN_MARGIN = env.float("HWR_CHALLENGE_MIN_MARGIN", default=0.5)

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
# Admin login throttling (django-axes): after this many failed logins from one client address,
# or for one user name, that address or name is refused for the cool-off time.
AXES_FAILURE_LIMIT = env.int("HWR_LOGIN_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.float("HWR_LOGIN_COOLOFF_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = ["ip_address", "username"]
AXES_RESET_ON_SUCCESS = True
AXES_CLIENT_IP_CALLABLE = "hwrsite.ratelimit.client_address"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = env.path("STATIC_ROOT", default=BASE_DIR / "staticfiles")
MEDIA_URL = "media/"
MEDIA_ROOT = env.path("MEDIA_ROOT", default=BASE_DIR / "var" / "media")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "hwrsite.storage.ModuleStaticFilesStorage"
            if not DEBUG
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}

# Uploads: the body limit covers both JSON data URLs and multipart files.
HWR_MAX_UPLOAD_BYTES = env.int("HWR_MAX_UPLOAD_BYTES", default=5 * 1024 * 1024)
HWR_MAX_IMAGE_PIXELS = env.int("HWR_MAX_IMAGE_PIXELS", default=25_000_000)
DATA_UPLOAD_MAX_MEMORY_SIZE = HWR_MAX_UPLOAD_BYTES
FILE_UPLOAD_MAX_MEMORY_SIZE = HWR_MAX_UPLOAD_BYTES

# Models: bundled ones ship in ml/artifacts; retrained ones go to HWR_MODELS_DIR.
HWR_BUNDLED_MODELS_DIR = env.path("HWR_BUNDLED_MODELS_DIR", default=BASE_DIR / "ml" / "artifacts")
HWR_MODELS_DIR = env.path("HWR_MODELS_DIR", default=BASE_DIR / "var" / "models")
HWR_DATASETS_DIR = env.path("HWR_DATASETS_DIR", default=BASE_DIR.parent / "shared" / "datasets")
HWR_SAMPLE_RETENTION_DAYS = env.int("HWR_SAMPLE_RETENTION_DAYS", default=30)
# How often a web worker re-reads which model version is active (hot reload).
HWR_REGISTRY_CHECK_SECONDS = env.float("HWR_REGISTRY_CHECK_SECONDS", default=5.0)
# Words the text model's readings are weighed against (core.lexicon): wordfreq:<language>,
# a word-list file, or empty for none; and how much a word's frequency counts against the model.
HWR_LEXICON = env("HWR_LEXICON", default="wordfreq:en")
HWR_LEXICON_WEIGHT = env.float("HWR_LEXICON_WEIGHT", default=0.5)

# Google Sheets mirror of the feedback (manage.py sync_sheets).
GOOGLE_SERVICE_ACCOUNT_FILE = env("GOOGLE_SERVICE_ACCOUNT_FILE", default="")
GOOGLE_SERVICE_ACCOUNT_JSON = env("GOOGLE_SERVICE_ACCOUNT_JSON", default="")
HWR_SHEET_KEY = env("HWR_SHEET_KEY", default="")
HWR_SHEET_NAME = env("HWR_SHEET_NAME", default="")
HWR_SITE_URL = env("HWR_SITE_URL", default="http://127.0.0.1:8000")
# Base URL that replaces https://sheets.googleapis.com and https://www.googleapis.com (tests
# point it at a local fake); empty = Google's real endpoints.
HWR_SHEETS_API_URL = env("HWR_SHEETS_API_URL", default="")
HWR_SHEETS_BATCH_SIZE = env.int("HWR_SHEETS_BATCH_SIZE", default=200)
# 429/5xx/connection errors: this many retries, waiting BACKOFF, 2*BACKOFF, ... seconds.
HWR_SHEETS_MAX_RETRIES = env.int("HWR_SHEETS_MAX_RETRIES", default=5)
HWR_SHEETS_BACKOFF_SECONDS = env.float("HWR_SHEETS_BACKOFF_SECONDS", default=2.0)
# Held while sync_sheets runs, so that overlapping runs on this host cannot append a row twice.
HWR_SHEETS_LOCK_FILE = env.path(
    "HWR_SHEETS_LOCK_FILE", default=Path(tempfile.gettempdir()) / "hwr-sync-sheets.lock"
)

# Production hardening: on whenever DEBUG is off.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not DEBUG)
SESSION_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SECURE = not DEBUG
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = not DEBUG
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
# Content-Security-Policy (django-csp): scripts and styles only from our own files, never
# inline; images also as data: URLs (the 28x28 the model saw) and blob: (the upload preview).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:", "blob:"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    },
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
}

# Background jobs (retrain from the admin): Django's tasks framework, the django-tasks backport
# on Django 5.2, with its database backend, so jobs wait in this database and no other service
# is needed; `manage.py db_worker` (where requirements-ml.txt is installed) runs them.
INSTALLED_APPS += ["django_tasks", "django_tasks_db"]
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
# Review queue: every this many decisions, a known (gold) item is mixed in to measure the
# reviewer's accuracy (0: never, the single-reviewer default).
HWR_REVIEW_GOLD_EVERY = env.int("HWR_REVIEW_GOLD_EVERY", default=0)
