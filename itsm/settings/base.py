"""Settings shared by every environment; everything that differs between machines comes from the environment.

With no environment at all this is the embedded default: SQLite and a Celery transport on the local file system,
so `make run` needs no server installed. `DATABASE_URL` and `REDIS_URL` switch to PostgreSQL and Redis.
"""

from datetime import timedelta
from pathlib import Path

import environ
from django.utils.translation import gettext_lazy as _
from kombu import Queue

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = Path(environ.Env().str("ITSM_VAR_DIR", default=str(BASE_DIR / "var")))

env = environ.Env()

DEBUG = env.bool("DEBUG", default=True)
SECRET_KEY = env.str("SECRET_KEY", default="insecure-embedded-default-do-not-use-in-production")
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "axes",
    "csp",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_htmx",
    "django_fsm",
    "django_fsm_log",
    "rules.apps.AutodiscoverRulesConfig",
    "itsm",
    "catalog",
    "slas",
    "incidents",
    "problems",
    "changes",
    "requests_app",
    "knowledge",
    "portal",
    "mail",
    "webhooks",
    "imports",
    "automation",
    "demo",
]

MIDDLEWARE = [
    # First: /healthz/ must answer probes on the container's own address, before host checks and HTTPS redirects.
    "itsm.middleware.HealthCheckMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Last: turns a django-axes lockout into its 429 answer.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "itsm.urls"
WSGI_APPLICATION = "itsm.wsgi.application"

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
                "itsm.context_processors.roles",
            ],
        },
    },
]

DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'db.sqlite3'}")}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=0)
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL and a busy timeout let the web server, the worker and beat share one SQLite file.
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 20,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# Permission predicates (itsm/rules.py) are called directly; model permissions drive the admin.
# The lockout check comes first: a locked-out account or address is refused before its password is checked.
AUTHENTICATION_BACKENDS = ["itsm.security.LoginLockoutBackend", "django.contrib.auth.backends.ModelBackend"]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English"))]
TIME_ZONE = env.str("TIME_ZONE", default="UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
STATICFILES_DIRS = [BASE_DIR / "itsm" / "static"]
MEDIA_ROOT = Path(env.str("MEDIA_ROOT", default=str(VAR_DIR / "media")))
MEDIA_URL = "/media-not-served/"  # attachments are only ever served by the download view
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = DEBUG

EMAIL_BACKEND = env.str("EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = env.str("EMAIL_HOST", default="localhost")
EMAIL_PORT = env.int("EMAIL_PORT", default=25)
EMAIL_HOST_USER = env.str("EMAIL_HOST_USER", default="")
EMAIL_HOST_PASSWORD = env.str("EMAIL_HOST_PASSWORD", default="")
EMAIL_USE_TLS = env.bool("EMAIL_USE_TLS", default=False)
EMAIL_USE_SSL = env.bool("EMAIL_USE_SSL", default=False)
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=10)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="servicedesk@localhost")

# --- REST API ---------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_FILTER_BACKENDS": [
        "itsm.api.filters.FilterSetBackend",
        "rest_framework.filters.SearchFilter",
        "itsm.api.filters.StableOrderingFilter",
    ],
    "DEFAULT_PARSER_CLASSES": [
        "itsm.api.parsers.SafeJSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_PAGINATION_CLASS": "itsm.api.pagination.TicketCursorPagination",
    "PAGE_SIZE": 25,
    "DEFAULT_SCHEMA_CLASS": "itsm.api.schema.AutoSchema",
    "EXCEPTION_HANDLER": "itsm.api.exceptions.exception_handler",
    "DEFAULT_THROTTLE_CLASSES": [
        "itsm.api.throttling.AnonymousClientThrottle",
        "itsm.api.throttling.UserThrottle",
    ],
}
# API rate limits (itsm/api/throttling.py), counted in the default cache: Redis when REDIS_URL is set.
ITSM_API_THROTTLE_RATES = {
    "anon": env.str("ITSM_API_THROTTLE_ANON", default="60/min"),
    "user": env.str("ITSM_API_THROTTLE_USER", default="600/min"),
}
# The most rows one `GET <list>/export/` streams; a larger filtered list is refused with a 400 naming the limit.
ITSM_EXPORT_MAX_ROWS = env.int("ITSM_EXPORT_MAX_ROWS", default=100_000)
# How long a process keeps the configuration every ticket event consults (triggers, webhook endpoints, templates).
ITSM_CONFIG_CACHE_SECONDS = env.float("ITSM_CONFIG_CACHE_SECONDS", default=5.0)
SPECTACULAR_SETTINGS = {
    "TITLE": "ITSM service desk API",
    "DESCRIPTION": (
        "REST API of the service desk. Authenticate with `Authorization: Token <token>` "
        "(obtain one from `POST /api/v1/auth/token/`) or a browser session. Users are written and read by "
        "username; teams, services and configuration items by name (an integer id is accepted on write)."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "itsm.api.schema.add_error_responses",
    ],
    # Impact and urgency share one 1-3 scale.
    # Each practice's state and close-code choices get a stable name of their own (`manage.py check` warns otherwise).
    "ENUM_NAME_OVERRIDES": {
        "ScaleEnum": "itsm.enums.Impact",
        "IncidentStateEnum": "incidents.enums.IncidentState",
        "ProblemStateEnum": "problems.enums.ProblemState",
        "ProblemTaskStateEnum": "problems.enums.ProblemTaskState",
        "ChangeStateEnum": "changes.enums.ChangeState",
        "ChangeTaskStateEnum": "changes.enums.ChangeTaskState",
        "ChangeCloseCodeEnum": "changes.enums.ChangeCloseCode",
        "RequestStateEnum": "requests_app.enums.RequestState",
        "RequestedItemStateEnum": "requests_app.enums.RequestedItemState",
        "RequestedItemCloseCodeEnum": "requests_app.enums.RequestedItemCloseCode",
        "FulfilmentTaskStateEnum": "requests_app.enums.FulfilmentTaskState",
        "ApprovalStateEnum": "itsm.enums.ApprovalState",
    },
}

# --- Celery -----------------------------------------------------------------
REDIS_URL = env.str("REDIS_URL", default="")
CELERY_BROKER_DIR = VAR_DIR / "broker"
if REDIS_URL:
    CELERY_BROKER_URL = REDIS_URL
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
else:
    # kombu's filesystem transport: a real queue between processes with no server to install.
    CELERY_BROKER_URL = "filesystem://"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(CELERY_BROKER_DIR / "queue"),
        "data_folder_out": str(CELERY_BROKER_DIR / "queue"),
        "processed_folder": str(CELERY_BROKER_DIR / "processed"),
        "control_folder": str(CELERY_BROKER_DIR / "control"),
        "store_processed": False,
    }
    for _folder in ("queue", "processed", "control"):
        (CELERY_BROKER_DIR / _folder).mkdir(parents=True, exist_ok=True)
# The SLA sweep has a queue of its own, so a backlog of notifications never delays breach detection; workers consume
# every queue listed here (round robin) unless told otherwise with -Q.
CELERY_TASK_QUEUES = (Queue("sla"), Queue("celery"))
CELERY_TASK_DEFAULT_QUEUE = "celery"
CELERY_TASK_ROUTES = {"slas.sweep": {"queue": "sla"}}
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = env.int("ITSM_TASK_TIME_LIMIT", default=300)
CELERY_TASK_SOFT_TIME_LIMIT = env.int("ITSM_TASK_SOFT_TIME_LIMIT", default=240)
CELERY_TASK_ALWAYS_EAGER = env.bool("ITSM_CELERY_EAGER", default=False)
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TIMEZONE = "UTC"
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")

ITSM_INCIDENT_AUTO_CLOSE_DAYS = env.int("ITSM_INCIDENT_AUTO_CLOSE_DAYS", default=7)
ITSM_AUTO_CLOSE_SWEEP_SECONDS = env.int("ITSM_AUTO_CLOSE_SWEEP_SECONDS", default=3600)
# Days a fulfilled requested item waits for the requester (a comment restarts the wait) before it closes itself.
ITSM_REQUEST_AUTO_CLOSE_DAYS = env.int("ITSM_REQUEST_AUTO_CLOSE_DAYS", default=7)
ITSM_OUTBOX_SWEEP_SECONDS = env.int("ITSM_OUTBOX_SWEEP_SECONDS", default=60)
ITSM_SLA_SWEEP_SECONDS = env.int("ITSM_SLA_SWEEP_SECONDS", default=15)
ITSM_MAIL_POLL_SECONDS = env.int("ITSM_MAIL_POLL_SECONDS", default=60)
# The domain of our Message-IDs (default: that of DEFAULT_FROM_EMAIL).
ITSM_MAIL_DOMAIN = env.str("ITSM_MAIL_DOMAIN", default="")
ITSM_WEBHOOK_SWEEP_SECONDS = env.int("ITSM_WEBHOOK_SWEEP_SECONDS", default=30)
ITSM_WEBHOOK_TIMEOUT_SECONDS = env.int("ITSM_WEBHOOK_TIMEOUT_SECONDS", default=10)
# automation: how often the learned categoriser is retrained on the resolved tickets; where the Endava sample is.
ITSM_CATEGORISER_RETRAIN_SECONDS = env.int("ITSM_CATEGORISER_RETRAIN_SECONDS", default=24 * 3600)
ITSM_ENDAVA_TICKETS_DIR = env.str(
    "ITSM_ENDAVA_TICKETS_DIR", default=str(BASE_DIR.parent / "shared/data/endava_tickets")
)
CELERY_BEAT_SCHEDULE = {
    "incidents-auto-close": {
        "task": "incidents.auto_close",
        "schedule": ITSM_AUTO_CLOSE_SWEEP_SECONDS,
    },
    "requests-auto-close": {
        "task": "requests_app.auto_close",
        "schedule": ITSM_AUTO_CLOSE_SWEEP_SECONDS,
        "options": {"expires": ITSM_AUTO_CLOSE_SWEEP_SECONDS},
    },
    "requests-uploads-purge": {
        "task": "requests_app.uploads_purge",
        "schedule": ITSM_AUTO_CLOSE_SWEEP_SECONDS,
        "options": {"expires": ITSM_AUTO_CLOSE_SWEEP_SECONDS},
    },
    "outbox-flush": {
        "task": "itsm.outbox_flush",
        "schedule": ITSM_OUTBOX_SWEEP_SECONDS,
    },
    "mail-poll": {
        "task": "mail.poll",
        "schedule": ITSM_MAIL_POLL_SECONDS,
        "options": {"expires": ITSM_MAIL_POLL_SECONDS},
    },
    "webhooks-flush": {
        "task": "webhooks.flush",
        "schedule": ITSM_WEBHOOK_SWEEP_SECONDS,
        "options": {"expires": ITSM_WEBHOOK_SWEEP_SECONDS},
    },
    "automation-categoriser-retrain": {
        "task": "automation.categoriser_retrain",
        "schedule": ITSM_CATEGORISER_RETRAIN_SECONDS,
        "options": {"expires": ITSM_CATEGORISER_RETRAIN_SECONDS},
    },
    "sla-sweep": {
        "task": "slas.sweep",
        "schedule": ITSM_SLA_SWEEP_SECONDS,
        # A sweep that waited longer than its interval is superseded by the next one.
        "options": {"expires": ITSM_SLA_SWEEP_SECONDS},
    },
}

# --- Attachments ------------------------------------------------------------
ITSM_ATTACHMENT_MAX_BYTES = env.int("ITSM_ATTACHMENT_MAX_BYTES", default=10 * 1024 * 1024)
ITSM_ATTACHMENT_ALLOWED_EXTENSIONS = env.list(
    "ITSM_ATTACHMENT_ALLOWED_EXTENSIONS",
    default=[
        "txt",
        "log",
        "csv",
        "pdf",
        "png",
        "jpg",
        "jpeg",
        "gif",
        "docx",
        "xlsx",
        "pptx",
        "odt",
        "ods",
        "zip",
        "eml",
    ],
)
DATA_UPLOAD_MAX_MEMORY_SIZE = ITSM_ATTACHMENT_MAX_BYTES + 1024 * 1024
# Files uploaded ahead of an order (POST /api/v1/uploads/): how long an unused one is kept, how many a user may hold.
ITSM_UPLOAD_EXPIRY_HOURS = env.int("ITSM_UPLOAD_EXPIRY_HOURS", default=24)
ITSM_UPLOAD_MAX_PENDING = env.int("ITSM_UPLOAD_MAX_PENDING", default=20)

ITSM_DEMO_PASSWORD = env.str("ITSM_DEMO_PASSWORD", default="demo")
ITSM_SITE_URL = env.str("ITSM_SITE_URL", default="http://localhost:8000")

# --- Changes ----------------------------------------------------------------
# How many hops along the CI dependency graph (both ways) a change conflicts with changes on related CIs.
ITSM_CHANGE_CONFLICT_DEPTH = env.int("ITSM_CHANGE_CONFLICT_DEPTH", default=3)
# The widest range the change calendar (API and page) answers at once.
ITSM_CHANGE_CALENDAR_MAX_DAYS = env.int("ITSM_CHANGE_CALENDAR_MAX_DAYS", default=92)
# How long a one-click approval link in an email stays valid.
ITSM_APPROVAL_LINK_MAX_AGE_DAYS = env.int("ITSM_APPROVAL_LINK_MAX_AGE_DAYS", default=7)

# --- Abuse limits and security headers (SECURITY.md) -------------------------
# The cache counts API requests: Redis when one is configured, so every web process shares one count; the embedded
# default has no Redis and counts per process.
CACHE_URL = env.str("CACHE_URL", default=REDIS_URL)
CACHES = {
    "default": (
        {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": CACHE_URL, "KEY_PREFIX": "itsm"}
        if CACHE_URL
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "itsm"}
    )
}
# How many reverse proxies in front of the app append to X-Forwarded-For (0: clients connect directly). The login
# lockout and the API throttles take the client's address from here (itsm.security.client_ip), never from a header
# the client wrote itself.
ITSM_TRUSTED_PROXY_COUNT = env.int("ITSM_TRUSTED_PROXY_COUNT", default=0)
# django-axes: 5 failed logins lock the account, and separately the client address, for 15 minutes.
AXES_FAILURE_LIMIT = env.int("ITSM_LOGIN_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("ITSM_LOGIN_COOLOFF_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_CLIENT_IP_CALLABLE = "itsm.security.client_ip"
AXES_HTTP_RESPONSE_CODE = 429
AXES_VERBOSE = False
# Content Security Policy (django-csp): scripts and styles from our own origin only. Inline style attributes are
# allowed (progress bars set their width), inline <style> and <script> are not; nothing may frame the app.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "style-src-attr": ["'unsafe-inline'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True

DJANGO_FSM_LOG_STORAGE_METHOD = "django_fsm_log.backends.SimpleBackend"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
}
