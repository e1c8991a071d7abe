"""Settings for the HarmonyBridge web app, read from the environment.

``HB_MODE`` chooses the mode: ``production`` (the default: secure cookies, HTTPS,
two-factor login required, SECRET_KEY and HB_FIELD_KEYS required), ``demo`` (what
``make run`` uses: generated secrets kept under HB_DATA_DIR, plain HTTP on
localhost, two-factor login optional) or ``test``. See docs/deployment.md.
"""

from __future__ import annotations

import secrets
from pathlib import Path

import dj_database_url
from cryptography.fernet import Fernet
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from harmonybridge.web.clientaddress import parse_networks
from harmonybridge.web.envconf import (
    MODES,
    create_private_file,
    env_bool,
    env_int,
    env_list,
    env_secret,
    env_secret_list,
    env_str,
    read_or_create_secret,
)

BASE_DIR = Path(__file__).resolve().parent
HB_MODE = env_str("HB_MODE", "production")
if HB_MODE not in MODES:
    raise ImproperlyConfigured(
        f"HB_MODE must be one of {', '.join(MODES)}, got {HB_MODE!r}"
    )
PRODUCTION = HB_MODE == "production"
DEMO = HB_MODE == "demo"
DATA_DIR = Path(env_str("HB_DATA_DIR", str(Path.cwd() / "var"))).resolve()

DEBUG = env_bool("HB_DEBUG", False)

SECRET_KEY = env_secret("SECRET_KEY")
if not SECRET_KEY:
    if PRODUCTION:
        raise ImproperlyConfigured(
            "SECRET_KEY is not set. Set SECRET_KEY (or SECRET_KEY_FILE) to a long random "
            "value; see docs/deployment.md."
        )
    SECRET_KEY = read_or_create_secret(
        DATA_DIR / "secret-key", lambda: secrets.token_urlsafe(50)
    )

# Field-encryption keys (Fernet, comma-separated, newest first). Rotation: put the
# new key first, run `harmonybridge manage rotate_field_keys`, then drop the old one.
# HB_FIELD_KEYS and HB_FIELD_KEYS_FILE are parsed alike (a file used to be read as
# one key, so "NEW,OLD" broke every decrypt); `check --deploy` decrypts a known value.
HB_FIELD_KEYS = env_secret_list("HB_FIELD_KEYS")
if not HB_FIELD_KEYS:
    if PRODUCTION:
        raise ImproperlyConfigured(
            "HB_FIELD_KEYS is not set: give one or more Fernet keys (comma-separated, "
            "newest first) for encrypting names, contacts and notes; see docs/deployment.md."
        )
    HB_FIELD_KEYS = [
        read_or_create_secret(
            DATA_DIR / "field-key", lambda: Fernet.generate_key().decode("ascii")
        )
    ]

ALLOWED_HOSTS = env_list(
    "ALLOWED_HOSTS", "" if PRODUCTION else "127.0.0.1,localhost,testserver"
)
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_htmx",
    "template_partials",
    "csp",
    "axes",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "django_tasks",
    "django_tasks_db",
    "ninja",
    "harmonybridge.web.accounts",
    "harmonybridge.web.audit",
    "harmonybridge.web.privacy",
    "harmonybridge.web.ops",
    "harmonybridge.web.practice",
    "harmonybridge.web.checkins",
    "harmonybridge.web.alerts",
    "harmonybridge.web.insights",
    "harmonybridge.web.repairs",
    "harmonybridge.web.research",
    "harmonybridge.web.demo",
    "harmonybridge.web.api",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "harmonybridge.web.practice.middleware.PracticeTimezoneMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "axes.middleware.AxesMiddleware",
    "harmonybridge.web.accounts.middleware.SecurityHeadersMiddleware",
    "harmonybridge.web.accounts.middleware.SessionTimeoutMiddleware",
    "harmonybridge.web.accounts.middleware.RequireMFAMiddleware",
]

ROOT_URLCONF = "harmonybridge.web.urls"
WSGI_APPLICATION = "harmonybridge.web.wsgi.application"

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
                "django.template.context_processors.i18n",
                "harmonybridge.web.alerts.context_processors.safety_notices",
            ],
        },
    }
]

# --- Database -------------------------------------------------------------------
DATABASE_URL = env_str("DATABASE_URL")
if DATABASE_URL:
    DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=60)}
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": env_str("HB_SQLITE_PATH", str(DATA_DIR / "harmonybridge.sqlite3")),
            "OPTIONS": {
                # WAL with synchronous=FULL: an acknowledged commit survives power loss
                # (WAL+NORMAL may lose the last commits). IMMEDIATE transactions take
                # the write lock up front, so concurrent writers queue instead of
                # failing with "database is locked" on lock upgrade.
                "init_command": (
                    "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; "
                    "PRAGMA foreign_keys=ON; PRAGMA busy_timeout=10000;"
                ),
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
            },
        }
    }
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    # Created owner-only (0600) like the key files, before SQLite makes it 0644;
    # SQLite gives its -wal and -shm files the database file's mode.
    create_private_file(Path(DATABASES["default"]["NAME"]))
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Accounts and authentication --------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {
        "NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"
    },
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "account_login"

ACCOUNT_ADAPTER = "harmonybridge.web.accounts.adapters.AccountAdapter"
ACCOUNT_LOGIN_METHODS = {"username"}
ACCOUNT_SIGNUP_FIELDS = ["username*", "email*", "password1*", "password2*"]
ACCOUNT_EMAIL_VERIFICATION = "none"
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = True
ACCOUNT_SESSION_REMEMBER = False
ACCOUNT_PREVENT_ENUMERATION = True
ACCOUNT_RATE_LIMITS = {"login_failed": "10/m/ip,5/5m/key"}
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
# allauth refuses two-factor set-up while an email address is unverified, to stop a
# stranger who signs up with someone else's address from locking its owner out. There
# is no sign-up here: every account is made by the practice admin (or create_practice),
# who vouches for the address, so a new colleague can set up TOTP at first sign-in
# without working mail (issue 9, fault 7).
MFA_ALLOW_UNVERIFIED_EMAIL = True
MFA_TOTP_ISSUER = "HarmonyBridge"
MFA_ADAPTER = (
    "harmonybridge.web.accounts.adapters.MFAAdapter"  # secrets encrypted at rest
)
#: Staff must have two-factor login in production; the demo is the documented exception.
HB_REQUIRE_MFA = env_bool("HB_REQUIRE_MFA", PRODUCTION)

# Lockout keyed on username *and* address: a stranger cannot lock out the whole
# practice by guessing at every account from one place, nor one account from everywhere.
AXES_FAILURE_LIMIT = env_int("HB_LOGIN_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = 0.25  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_VERBOSE = False
AXES_ENABLED = env_bool("HB_AXES_ENABLED", True)

# --- The client's address behind a reverse proxy ------------------------------------
# One setting: the peers whose X-Forwarded-For is believed (the TLS proxy of
# docs/deployment.md, usually 127.0.0.1). The lockout, allauth's rate limits and the
# audit log all take the address from clientaddress.client_address; the
# shipped gunicorn configuration trusts X-Forwarded-Proto from the same peers.
HB_TRUSTED_PROXIES = env_list("HB_TRUSTED_PROXIES")
parse_networks(HB_TRUSTED_PROXIES)  # a typo stops startup with a clear message
AXES_CLIENT_IP_CALLABLE = "harmonybridge.web.clientaddress.client_address"

# --- Cache: shared by every process (rate limits, lockouts, dashboard panels) ------
# A database table (created by the ops app's migration) rather than per-process memory:
# with several gunicorn workers a per-process cache would split login rate limits and
# keep each worker's dashboard cache cold; no Redis is required.
# Every value is encrypted with HB_FIELD_KEYS before it is stored (ops/cache.py): the
# panels hold names, goals and scores. `manage backup` leaves the table out.
CACHES = {
    "default": {
        "BACKEND": "harmonybridge.web.ops.cache.EncryptedDatabaseCache",
        "LOCATION": "hb_cache",
    }
}

# --- Sessions and cookies ----------------------------------------------------------
# Django's database sessions, the row read with SQL built once (accounts/sessions.py).
SESSION_ENGINE = "harmonybridge.web.accounts.sessions"
SESSION_COOKIE_AGE = env_int("HB_SESSION_ABSOLUTE_SECONDS", 12 * 3600)
HB_SESSION_IDLE_SECONDS = env_int("HB_SESSION_IDLE_SECONDS", 15 * 60)
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
# Messages live in the session, so the only cookies are the two __Host- ones below.
MESSAGE_STORAGE = "django.contrib.messages.storage.session.SessionStorage"
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
if PRODUCTION:
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SESSION_COOKIE_NAME = "__Host-hbsession"
    CSRF_COOKIE_NAME = "__Host-hbcsrf"
    SECURE_SSL_REDIRECT = env_bool("HB_SSL_REDIRECT", True)
    SECURE_HSTS_SECONDS = env_int("HB_HSTS_SECONDS", 31_536_000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# --- Content security policy (django-csp 4): no inline script, no other origin ------
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
    }
}
PERMISSIONS_POLICY = "camera=(), microphone=(), geolocation=(), payment=(), usb=()"

# --- Internationalisation ----------------------------------------------------------
LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_I18N = True
USE_TZ = True  # stored in UTC; shown in the practice's time zone
TIME_ZONE = "UTC"

# --- Static files -----------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = DATA_DIR / "static"
# Production fills STATIC_ROOT with collectstatic; elsewhere WhiteNoise wants the folder.
if not PRODUCTION:
    STATIC_ROOT.mkdir(parents=True, exist_ok=True)
STATICFILES_DIRS = [BASE_DIR / "static"]
# Outside production WhiteNoise serves straight from the finders, so `make run`
# (DEBUG off, no collectstatic) has its styles and htmx.
WHITENOISE_USE_FINDERS = not PRODUCTION
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if PRODUCTION
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}

# --- Email and background work -----------------------------------------------------
EMAIL_BACKEND = env_str(
    "EMAIL_BACKEND",
    "django.core.mail.backends.smtp.EmailBackend"
    if PRODUCTION
    else "django.core.mail.backends.console.EmailBackend",
)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "harmonybridge@localhost")
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER")
EMAIL_HOST_PASSWORD = env_secret("EMAIL_HOST_PASSWORD")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
# Production queues alert evaluation in the database and a `manage db_worker` process
# runs it, so the client's "thank you" never waits for the rules; the demo and tests
# run tasks at once after commit so that no worker is needed.
TASKS = {
    "default": {
        "BACKEND": env_str(
            "HB_TASK_BACKEND",
            "django_tasks_db.DatabaseBackend"
            if PRODUCTION
            else "django_tasks.backends.immediate.ImmediateBackend",
        )
    }
}

# --- Research exports: zips outside the database and outside `manage backup`'s copy;
# deleted 7 days after they are written (`manage purge_research_exports`).
HB_RESEARCH_EXPORT_DIR = Path(
    env_str("HB_RESEARCH_EXPORT_DIR", str(DATA_DIR / "research-exports"))
).resolve()

# PDF reports rendered at once on this host (a slot is a file lock under HB_DATA_DIR);
# other report requests answer "busy, try again" so check-ins never wait behind them.
HB_PDF_CONCURRENCY = env_int("HB_PDF_CONCURRENCY", 1)

# --- Check-ins ---------------------------------------------------------------------
HB_CHECKIN_TOKEN_HOURS = env_int("HB_CHECKIN_TOKEN_HOURS", 72)
HB_PUBLIC_BASE_URL = env_str(
    "HB_PUBLIC_BASE_URL", "" if PRODUCTION else "http://127.0.0.1:8000"
)

# --- Logging: never client values; requests are logged without query strings -------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}
    },
    "filters": {
        "redact_tokens": {"()": "harmonybridge.web.ops.logfilters.RedactTokens"}
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "plain",
            "filters": ["redact_tokens"],  # check-in link tokens never reach a log line
        }
    },
    "root": {"handlers": ["console"], "level": env_str("HB_LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        # runserver's request lines (demo mode) carry the path, tokens included:
        # Django's default gives this logger its own unfiltered handler.
        "django.server": {
            "handlers": ["console"],
            "level": "INFO",
            "propagate": False,
        },
    },
}

SILENCED_SYSTEM_CHECKS: list[str] = []
