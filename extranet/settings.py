"""Settings read from the environment; defaults suit the demo (SQLite, console emails)."""

import base64
import datetime
import hashlib
import os
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from xstatic.pkg import bootstrap as xstatic_bootstrap

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name, default=False):
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name, default=""):
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


# Fail closed: without DEBUG=true this is a production server, and a production server has no default secret. The
# demo, the tests and the benchmark ask for DEBUG=true themselves (Makefile, tests/settings.py, bench/).
DEBUG = env_bool("DEBUG", default=False)
PRODUCTION_VARIABLES = ("SECRET_KEY", "NIR_HASH_KEY", "NIR_ENCRYPTION_KEY", "ALLOWED_HOSTS")
if not DEBUG and (missing := [name for name in PRODUCTION_VARIABLES if not os.environ.get(name, "").strip()]):
    # One message naming every missing variable (manage.py prints it alone, without a traceback).
    raise ImproperlyConfigured(
        f"Configuration manquante : {', '.join(missing)}. Un serveur de production ne démarre pas sans ces variables "
        "(docs/deployment.md) ; pour la démonstration ou le développement, DEBUG=true (make demo le fait).\n"
        f"Missing configuration: {', '.join(missing)}. A production server does not start without these variables "
        "(docs/deployment.md); for the demo or development, set DEBUG=true (make demo does)."
    )
SECRET_KEY = os.environ.get("SECRET_KEY") or "dev-only-insecure-key-never-used-when-debug-is-off"  # noqa: S105

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost" if DEBUG else "")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")
SITE_URL = os.environ.get("SITE_URL", "http://127.0.0.1:8000").rstrip("/")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django.forms",
    "csp",
    "guardian",
    "django_filters",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_tasks",
    # The composition: its management commands (db_worker, which replaces django_tasks_db's, hence before it;
    # schedule_daily_jobs, seed_demo), the nightly runs' record and the scheduler's migration.
    "extranet",
    "django_tasks_db",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_email",
    "django_otp.plugins.otp_static",
    "extranet.accounts",
    "extranet.notifications",
    "extranet.audit",
    "structures",
    "requests",
    # After `requests`: its ready() hides our package from DRF's optional import of the `requests` library,
    # which drf-spectacular's import chain reaches.
    "extranet.api",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "extranet.middleware.NoStoreMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "extranet.middleware.SessionTimeoutMiddleware",
    "extranet.middleware.SecondFactorMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "extranet.middleware.CurrentCaisseMiddleware",
]

FORM_RENDERER = "extranet.core.forms.FormRenderer"

ROOT_URLCONF = "extranet.urls"
WSGI_APPLICATION = "extranet.wsgi.application"

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
                "extranet.context_processors.navigation",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
        conn_max_age=int(os.environ.get("CONN_MAX_AGE", "0")),
        # A connection kept between requests (CONN_MAX_AGE > 0) may have been cut since (database restarted, idle
        # timeout, pg_terminate_backend): checked once at each request's first query, and opened again if so, instead
        # of answering 500.
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # SQLite serves the demo and small installations: write-ahead log, so that readers never wait for a writer and a
    # commit costs no fsync of a rollback journal (1.3 ms per access-journal row before); write transactions take
    # their lock when they start, so two workers cannot both read then fail to write ("database is locked").
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        init_command="PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;", transaction_mode="IMMEDIATE", timeout=20
    )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    # First: it refuses every attempt on a locked account or address before any password is checked.
    "extranet.accounts.backends.LoginThrottleBackend",
    "extranet.accounts.backends.EmailBackend",
    "guardian.backends.ObjectPermissionBackend",
]
# No anonymous user row: anonymous visitors never hold object permissions here.
ANONYMOUS_USER_NAME = None
GUARDIAN_RAISE_403 = False

PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {
        "NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator",
        "OPTIONS": {"user_attributes": ("email", "first_name", "last_name")},
    },
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "accounts:login"

# Second factor (django-otp): TOTP application, or for partners a code by email; backup codes for both.
OTP_TOTP_ISSUER = "Espace Partenaires"
OTP_EMAIL_TOKEN_VALIDITY = 10 * 60
# A new email code at most once a minute; failed codes double the wait before the next try, from the second one
# (a first typo is retried at once, then 2 s, 4 s…: extranet/accounts/second_factor.py).
OTP_EMAIL_COOLDOWN_DURATION = 60
OTP_EMAIL_THROTTLE_FACTOR = 1
OTP_TOTP_THROTTLE_FACTOR = 1
OTP_STATIC_THROTTLE_FACTOR = 1
BACKUP_CODES_COUNT = 10
# The technical admin never shows a TOTP secret nor its QR code (stored sealed, see extranet/accounts/models.py).
OTP_ADMIN_HIDE_SENSITIVE_DATA = True

# Login throttling (extranet/accounts/throttling.py), over a sliding window: failures on one account from one address,
# on one account from anywhere, and on different accounts from one address (a high bar: an office's typos never
# reach it). Unknown emails are counted like known ones, so a lock does not tell which exist.
LOGIN_FAILURE_WINDOW = datetime.timedelta(minutes=int(os.environ.get("LOGIN_FAILURE_WINDOW_MINUTES", "15")))
LOGIN_FAILURES_PER_ACCOUNT_AND_ADDRESS = int(os.environ.get("LOGIN_FAILURES_PER_ACCOUNT_AND_ADDRESS", "5"))
LOGIN_FAILURES_PER_ACCOUNT = int(os.environ.get("LOGIN_FAILURES_PER_ACCOUNT", "10"))
LOGIN_FAILED_ACCOUNTS_PER_ADDRESS = int(os.environ.get("LOGIN_FAILED_ACCOUNTS_PER_ADDRESS", "50"))
# Behind reverse proxies that append the client's address to X-Forwarded-For, how many of them there are; 0 when
# clients reach the application server directly (a client-supplied X-Forwarded-For is then ignored).
TRUSTED_PROXY_COUNT = int(os.environ.get("TRUSTED_PROXY_COUNT", "0"))
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "accounts:login"

# Sessions carry the user id in a column so that deactivation can end every session of a user.
SESSION_ENGINE = "extranet.accounts.session_store"
SESSION_COOKIE_HTTPONLY = True
# A signed-in session ends after 30 minutes without a request, and 12 hours after sign-in in any case.
SESSION_IDLE_TIMEOUT = 30 * 60
SESSION_ABSOLUTE_TIMEOUT = 12 * 60 * 60
# Before the idle timeout, the page warns this long ahead and offers to stay signed in; a deposit form typed in and
# left open is saved as a draft this long ahead (static/js/session.js). More than a minute: a tab in the background
# for a while has its timers run once a minute only. In seconds: the tests make them short.
SESSION_IDLE_WARNING = 3 * 60
SESSION_IDLE_DRAFT_SAVE = 90
SESSION_COOKIE_AGE = SESSION_ABSOLUTE_TIMEOUT
# Lax, not Strict: with Strict, following a link from an email (activation, reset, a request's page) arrives
# without the session cookie, so a signed-in user would be shown the login page. Lax still withholds the
# cookie from cross-site POSTs, and every state change here is a POST (plus the CSRF token).
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
# No script reads the CSRF cookie: forms carry the token in a hidden field.
CSRF_COOKIE_HTTPONLY = True
# Django's refusal page is in English, for developers: ours says in French what to do.
CSRF_FAILURE_VIEW = "extranet.views.csrf_failure"
SESSION_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SECURE = not DEBUG

# Response headers sent in every mode (the demo and the tests check them too).
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# django-csp: no inline script or style anywhere (Bootstrap's bundle is a static file, no style="" attributes).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}

if not DEBUG:
    # Production is HTTPS only. The __Host- prefix makes browsers accept the cookie only when Secure, set by
    # this very host (no Domain attribute) for path /; it cannot work over plain http, hence prod only.
    SESSION_COOKIE_NAME = "__Host-sessionid"
    CSRF_COOKIE_NAME = "__Host-csrftoken"
    SECURE_HSTS_SECONDS = 365 * 24 * 60 * 60
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", default=True)
    # Behind a TLS-terminating proxy, e.g. SECURE_PROXY_SSL_HEADER=HTTP_X_FORWARDED_PROTO,https — only if that
    # proxy always sets (overwrites) this header, otherwise a client could claim https.
    if os.environ.get("SECURE_PROXY_SSL_HEADER"):
        header, _, value = os.environ["SECURE_PROXY_SSL_HEADER"].partition(",")
        if not header.strip() or not value.strip():
            raise ImproperlyConfigured(
                "SECURE_PROXY_SSL_HEADER must read HEADER,value, e.g. HTTP_X_FORWARDED_PROTO,https."
            )
        SECURE_PROXY_SSL_HEADER = (header.strip(), value.strip())

ACTIVATION_LINK_VALIDITY_HOURS = 24 * 7
PASSWORD_RESET_LINK_VALIDITY_MINUTES = 60
EMAIL_CHANGE_LINK_VALIDITY_HOURS = 24

LANGUAGE_CODE = "fr"
LANGUAGES = [("fr", "Français")]
TIME_ZONE = "Europe/Paris"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static", ("bootstrap", xstatic_bootstrap.BASE_DIR)]

# Uploaded files never live under a public folder: they are served by a view that checks who asks.
PRIVATE_MEDIA_ROOT = Path(os.environ.get("PRIVATE_MEDIA_ROOT", BASE_DIR / "private"))
ATTACHMENT_MAX_SIZE = int(os.environ.get("ATTACHMENT_MAX_SIZE", 5 * 1024 * 1024))
ATTACHMENT_MAX_COUNT = int(os.environ.get("ATTACHMENT_MAX_COUNT", 5))
# What one request may hold in all, however many sends brought its files (requests/services.py).
MAX_ATTACHMENTS_PER_REQUEST = int(os.environ.get("MAX_ATTACHMENTS_PER_REQUEST", 20))
MAX_ATTACHMENT_BYTES_PER_REQUEST = int(os.environ.get("MAX_ATTACHMENT_BYTES_PER_REQUEST", 50 * 1024 * 1024))
# Django buffers uploads to disk above this size; our own limit is checked on every file.
FILE_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
DATA_UPLOAD_MAX_NUMBER_FILES = ATTACHMENT_MAX_COUNT + 5

# Retention: the personal data of a request are erased this many months after it was resolved, per kind of
# request ("mas_referral" for MAS referrals, "default" for a kind not listed). Each value can be set from the
# environment, e.g. RETENTION_MONTHS_CASE_REVIEW=36. MAS referrals: 18 months after the end of the accompaniment,
# as the notice given to the person says.
RETENTION_MONTHS = {
    "default": 24,
    "mas_referral": 18,
    "contact": 24,
    "access_difficulty": 24,
    "appointment": 24,
    "case_review": 24,
    "document": 24,
}
for _retention_key in RETENTION_MONTHS:
    _override = os.environ.get(f"RETENTION_MONTHS_{_retention_key.upper()}")
    if _override is not None:
        if not _override.isdigit() or int(_override) < 1:
            raise ImproperlyConfigured(f"RETENTION_MONTHS_{_retention_key.upper()} must be a number of months (≥ 1).")
        RETENTION_MONTHS[_retention_key] = int(_override)

# Deadlines of the caisse's queue, in working days since the deposit (requests/deadlines.py), per kind of
# request, "default" for a kind not listed. A new request is overdue once older than its take-charge deadline,
# one in progress once older than its resolution deadline (both counted from the deposit).
TAKE_CHARGE_WITHIN_WORKING_DAYS = {
    "default": 2,
    "contact": 2,
    "access_difficulty": 2,
    "appointment": 2,
    "case_review": 2,
    "document": 2,
}
RESOLVE_WITHIN_WORKING_DAYS = {
    "default": 10,
    "contact": 10,
    "access_difficulty": 10,
    "appointment": 10,
    "case_review": 10,
    "document": 10,
}

# Waiting for the structure's answer (requests/waiting.py): the structure is reminded once after this many working
# days of waiting; after the second delay, the queue shows the request "sans réponse".
AWAITING_PARTNER_REMINDER_WORKING_DAYS = 5
AWAITING_PARTNER_UNANSWERED_WORKING_DAYS = 15

# The access journal keeps who read what for 12 months (PostgreSQL's trigger refuses earlier deletions).
ACCESS_LOG_RETENTION_MONTHS = 12

# Keyed hash of NIRs (duplicate guard, exact search): a separate secret from SECRET_KEY.
# In DEBUG only (production sets both, see PRODUCTION_VARIABLES), they default to keys derived from the development
# SECRET_KEY.
NIR_HASH_KEY = os.environ.get("NIR_HASH_KEY") or SECRET_KEY
# NIRs are encrypted at rest (AES-256-GCM) with this key: 32 random bytes in base64, e.g.
# `python -c "import base64, os; print(base64.b64encode(os.urandom(32)).decode())"`.
NIR_ENCRYPTION_KEY = (
    os.environ.get("NIR_ENCRYPTION_KEY")
    or base64.b64encode(hashlib.sha256(b"nir-encryption:" + SECRET_KEY.encode()).digest()).decode()
)

EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
if EMAIL_BACKEND == "django.core.mail.backends.smtp.EmailBackend":
    # The same backend, telling the outbox when the hand-off to the relay starts (extranet/notifications/smtp.py):
    # without it, an attempt cut off mid-way could not tell "never given" from "maybe delivered".
    EMAIL_BACKEND = "extranet.notifications.smtp.EmailBackend"
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "25"))
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS")
EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL")
# Seconds an SMTP connection may wait for the relay at each step: a relay that stops answering fails the attempt
# (retried later) instead of holding a worker indefinitely.
EMAIL_TIMEOUT = float(os.environ.get("EMAIL_TIMEOUT", "10"))
# Seconds after which an email still "en cours d'envoi" is taken back from its worker (killed, machine lost): longer
# than any attempt can last (every SMTP step of an attempt may wait EMAIL_TIMEOUT).
EMAIL_SENDING_LEASE = float(os.environ.get("EMAIL_SENDING_LEASE", "300"))
DEFAULT_FROM_EMAIL = os.environ.get(
    "DEFAULT_FROM_EMAIL", "Espace Partenaires <ne-pas-repondre@espace-partenaires.example>"
)

# Webhooks (extranet/notifications/webhooks.py): https only, to public addresses only, but for these hosts, where
# plain http and private addresses are accepted (tests and local development; empty in production). The timeouts
# bound each attempt's connection and each read; past the lease, a delivery still "en cours d'envoi" (its worker
# killed) is sent again.
WEBHOOK_ALLOWED_HTTP_HOSTS = env_list("WEBHOOK_ALLOWED_HTTP_HOSTS")
WEBHOOK_CONNECT_TIMEOUT = float(os.environ.get("WEBHOOK_CONNECT_TIMEOUT", "3"))
WEBHOOK_READ_TIMEOUT = float(os.environ.get("WEBHOOK_READ_TIMEOUT", "10"))
WEBHOOK_SENDING_LEASE = float(os.environ.get("WEBHOOK_SENDING_LEASE", "120"))
# Delivered or abandoned deliveries (and their attempts' log) are kept this many days, then purged every night: the
# log shows the recent answers of the receiver; pending ones are never purged.
WEBHOOK_DELIVERY_RETENTION_DAYS = int(os.environ.get("WEBHOOK_DELIVERY_RETENTION_DAYS", "30"))

# The demo and the tests run background jobs at once; production uses the database queue (db_worker).
TASKS = {
    "default": {
        "BACKEND": os.environ.get("TASKS_BACKEND", "django_tasks.backends.immediate.ImmediateBackend"),
    }
}

# The worker (`manage.py db_worker`, extranet/management/commands/db_worker.py) looks every WORKER_SWEEP_INTERVAL
# seconds for what dead workers left: emails past their lease, pending emails without a task, and tasks still
# "running" TASK_RUNNING_TIMEOUT seconds after they started (longer than the nightly run can last), marked failed.
WORKER_SWEEP_INTERVAL = float(os.environ.get("WORKER_SWEEP_INTERVAL", "60"))
TASK_RUNNING_TIMEOUT = float(os.environ.get("TASK_RUNNING_TIMEOUT", str(3 * 60 * 60)))
# The administrateurs' "Tâches de fond" page warns when a task has been due this long without a worker taking it.
QUEUE_STALL_WARNING_MINUTES = int(os.environ.get("QUEUE_STALL_WARNING_MINUTES", "15"))

MESSAGE_TAGS = {40: "danger"}

# The default cache holds what every process of every application server must see alike (the version of the
# remembered conventions, structures/conventions.py): in production, the database's table django_cache, which migrate
# creates (extranet/migrations/0002). Each process has its own only in development, or if asked (CACHE_BACKEND=locmem,
# for a single process), which `check --deploy` refuses (extranet/checks.py).
CACHE_BACKENDS = {
    "database": {"BACKEND": "django.core.cache.backends.db.DatabaseCache", "LOCATION": "django_cache"},
    "locmem": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
}
CACHE_BACKEND = os.environ.get("CACHE_BACKEND", "locmem" if DEBUG else "database")
if CACHE_BACKEND not in CACHE_BACKENDS:
    raise ImproperlyConfigured(f"CACHE_BACKEND must be one of: {', '.join(CACHE_BACKENDS)}.")
CACHES = {"default": CACHE_BACKENDS[CACHE_BACKEND]}

# REST API (/api/v1/): per-user tokens (stored hashed) or the browser session; JSON only.
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "extranet.api.authentication.ApiTokenAuthentication",
        "extranet.api.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["extranet.api.permissions.SignedInWithSecondFactor"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": [
        "extranet.api.parsers.JSONParser",
        "extranet.api.parsers.MultiPartParser",
    ],
    "DEFAULT_THROTTLE_CLASSES": ["extranet.api.throttling.PerTokenThrottle"],
    "DEFAULT_THROTTLE_RATES": {"token": os.environ.get("API_THROTTLE_RATE", "600/minute")},
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "extranet.api.errors.exception_handler",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "API Espace Partenaires",
    "DESCRIPTION": "Déposer et suivre les demandes des structures partenaires ; traiter la file de la caisse.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "SCHEMA_PATH_PREFIX": "/api/v1",
    # The examples' addresses are this service's (extranet/api/examples.py), as the links a client receives.
    "SERVERS": [{"url": SITE_URL, "description": "Ce service."}],
    "COMPONENT_SPLIT_REQUEST": True,
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "extranet.api.schema.add_common_responses",
        # After the enum hook: the deposit's enums stay in its variants, one per kind.
        "extranet.api.catalogue.add_deposit_components",
        "extranet.api.schema.close_request_bodies",
    ],
    "ENUM_NAME_OVERRIDES": {
        "KindEnum": "requests.models.Kind",
        "StatusEnum": "requests.models.Status",
        "CivilityEnum": "extranet.accounts.models.Civility",
        "ErrorCodeEnum": "extranet.api.schema.CODE_CHOICES",
        "RefusedFileReasonEnum": "extranet.api.schema.REASON_CHOICES",
    },
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    # WeasyPrint narrates every rendering step at INFO.
    "loggers": {
        "weasyprint": {"level": "WARNING"},
        "fontTools": {"level": "WARNING"},
        # One line per task at INFO; failures still show.
        "django_tasks": {"level": "WARNING"},
        # qpdf's start-up line at INFO; its warnings about a PDF are read by requests/attachments.py, not logged.
        "pikepdf": {"level": "WARNING"},
    },
}
