"""Settings of the standalone project that runs the CRM as a Saleor app.

Everything comes from the environment with embedded defaults, so ``saleor-crm demo`` works on a
fresh machine and ``DATABASE_URL`` / ``CELERY_BROKER_URL`` switch to real servers.
"""

from __future__ import annotations

import os

import dj_database_url

from ..ops.logs import formatter_config
from . import embedded


def _env_list(name: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, "").split(",") if item.strip()]


DEBUG = os.environ.get("CRM_DEBUG", "") == "1"
SECRET_KEY = os.environ.get("SECRET_KEY", "saleor-crm-insecure-development-key-change-me")
ALLOWED_HOSTS = _env_list("ALLOWED_HOSTS") or ["*"]

INSTALLED_APPS = [
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "django.contrib.postgres",
    "saleor_crm_plugin.apps.CRMConfig",
]
MIDDLEWARE = [
    "django.middleware.common.CommonMiddleware",
]
ROOT_URLCONF = "saleor_crm_plugin.project.urls"
ASGI_APPLICATION = "saleor_crm_plugin.project.asgi.application"
WSGI_APPLICATION = "saleor_crm_plugin.project.wsgi.application"
USE_TZ = True
TIME_ZONE = "UTC"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
APPEND_SLASH = False
STATIC_URL = "/static/"

# A bounded psycopg pool per process (``saleor-crm serve`` turns it on, see docs/operations.md).
# Opening a PostgreSQL connection per request cost more than the webhook's own work, and
# persistent connections (CONN_MAX_AGE) leak under ASGI: Django runs each request's synchronous
# code on a thread of its own, and a connection kept by a thread that is gone is never closed.
# A pool hands each request a connection and takes it back when the request ends, so the count
# stays at most DATABASE_POOL_MAX_SIZE per process. CONN_MAX_AGE must then be 0.
DATABASE_POOL_MAX_SIZE = int(os.environ.get("DATABASE_POOL_MAX_SIZE", "0"))

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL") or embedded.database_url(),
        conn_max_age=(
            0 if DATABASE_POOL_MAX_SIZE > 0 else int(os.environ.get("DATABASE_CONN_MAX_AGE", "0"))
        ),
    )
}
DATABASES["default"].setdefault("OPTIONS", {})
# A webhook must answer within Saleor's 2 s connect / 18 s read budget even when the database
# is struggling: fail fast and answer 503 so Saleor retries.
DATABASES["default"]["OPTIONS"].setdefault("connect_timeout", 3)
if DATABASE_POOL_MAX_SIZE > 0:
    # With a pool, health checks make the pool test a connection before handing it out, so one
    # broken while idle (PostgreSQL restarted) is replaced rather than failing a request.
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    DATABASES["default"]["OPTIONS"]["pool"] = {
        "min_size": min(int(os.environ.get("DATABASE_POOL_MIN_SIZE", "1")), DATABASE_POOL_MAX_SIZE),
        "max_size": DATABASE_POOL_MAX_SIZE,
        # Waiting longer for a free connection than for a new one makes no sense: past this the
        # request fails with an OperationalError, which the webhook door answers with a 503.
        "timeout": float(os.environ.get("DATABASE_POOL_TIMEOUT", "3")),
        "max_idle": 300,
    }

# A streaming replica for the heavy read-only analytics (docs/scaleout.md). Tests mirror it to
# the primary, so they see what they just wrote.
if os.environ.get("CRM_ANALYTICS_DATABASE_URL"):
    DATABASES["analytics"] = dj_database_url.parse(
        os.environ["CRM_ANALYTICS_DATABASE_URL"],
        conn_max_age=int(os.environ.get("DATABASE_CONN_MAX_AGE", "0")),
    )
    DATABASES["analytics"]["OPTIONS"] = {"connect_timeout": 3}
    DATABASES["analytics"]["TEST"] = {"MIRROR": "default"}
    CRM_ANALYTICS_DATABASE = "analytics"

CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
if os.environ.get("CACHE_URL", "").startswith("redis"):
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": os.environ["CACHE_URL"],
        }
    }

# Celery: with no broker, tasks run in-process (eagerly), which is what the demo wants.
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", "")
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Redis hands an unacknowledged (late-acked) task to another worker after the visibility
# timeout: keep it above the longest task (the nightly recompute of a large store), or that
# task runs twice at once. RabbitMQ ignores it (its consumer_timeout plays the part).
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": int(os.environ.get("CELERY_VISIBILITY_TIMEOUT", "3600"))
}
# The queue our tasks are published to; workers consume it (`saleor-crm worker --queues`).
CELERY_TASK_DEFAULT_QUEUE = os.environ.get("CELERY_QUEUE", "celery")
# `saleor-crm worker --beat` runs saleor_crm_plugin.tasks.PERIODIC (added when the app is ready),
# e.g. the sweep that applies whatever no drain task picked up.
CELERY_BEAT_SCHEDULE: dict[str, dict[str, object]] = {}

CRM_BASE_CURRENCY = os.environ.get("CRM_BASE_CURRENCY", "USD")
CRM_ALLOWED_SALEOR_API_URLS = _env_list("CRM_ALLOWED_SALEOR_API_URLS")
CRM_ENCRYPTION_KEY = os.environ.get("CRM_ENCRYPTION_KEY", "")
CRM_PUBLIC_URL = os.environ.get("CRM_PUBLIC_URL", "")
if os.environ.get("CRM_INBOX_DISPATCH"):
    CRM_INBOX_DISPATCH = os.environ["CRM_INBOX_DISPATCH"]

# The async webhook door of `saleor-crm serve` (docs/operations.md).
if os.environ.get("CRM_WEBHOOK_DOOR_CONNECTIONS"):
    CRM_WEBHOOK_DOOR_CONNECTIONS = int(os.environ["CRM_WEBHOOK_DOOR_CONNECTIONS"])
if os.environ.get("CRM_INBOX_APPLIER_THREADS"):
    CRM_INBOX_APPLIER_THREADS = int(os.environ["CRM_INBOX_APPLIER_THREADS"])
if os.environ.get("CRM_WEBHOOK_GROUP_COMMIT_MAX"):
    CRM_WEBHOOK_GROUP_COMMIT_MAX = int(os.environ["CRM_WEBHOOK_GROUP_COMMIT_MAX"])

CRM_LOG_FORMAT = os.environ.get("CRM_LOG_FORMAT", "plain")
CRM_METRICS_TOKEN = os.environ.get("CRM_METRICS_TOKEN", "")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": formatter_config(CRM_LOG_FORMAT)},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "loggers": {
        "saleor_crm_plugin": {
            "handlers": ["console"],
            "level": os.environ.get("CRM_LOG_LEVEL", "INFO"),
        },
    },
}
