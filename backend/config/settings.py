"""Settings, all from the environment.

With nothing set this runs alone on one machine: a SQLite file, Channels'
in-memory layer, in-process presence and rate limits. `REDIS_URL` moves the
channel layer, presence and rate limits to Redis; `DATABASE_URL` moves storage
to PostgreSQL. The README lists every variable.
"""

import os
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BACKEND_DIR = Path(__file__).resolve().parent.parent
REPO_DIR = BACKEND_DIR.parent
VAR_DIR = Path(os.environ.get("CHAT_VAR_DIR", REPO_DIR / "var"))


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = env_bool("DEBUG", False)

SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("DJANGO_SECRET_KEY is required when DEBUG is off")
    SECRET_KEY = "insecure-development-key-only-used-with-DEBUG-on"

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]")

# The Vite dev server's origins (e.g. http://localhost:5173): allowed for CORS
# with credentials, for CSRF, and by the socket's origin check.
DEV_ORIGINS = env_list("DEV_ORIGINS")

INSTALLED_APPS = [
    "daphne",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.staticfiles",
    "corsheaders",
    "channels",
    "django_vite",
    "accounts",
    "chat",
    "web",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "corsheaders.middleware.CorsMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "config.urls"
ASGI_APPLICATION = "config.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {"context_processors": ["django.template.context_processors.request"]},
    }
]

# Seconds a socket waits for one database call before answering server_error;
# also SQLite's busy timeout and PostgreSQL's connect and statement timeouts, so
# a stalled database frees the thread as well as the socket.
CHAT_DB_TIMEOUT = float(os.environ.get("CHAT_DB_TIMEOUT", "5"))

DATABASES = {
    "default": dj_database_url.config(
        default=f"sqlite:///{VAR_DIR / 'db.sqlite3'}",
        conn_max_age=int(os.environ.get("DB_CONN_MAX_AGE", "60")),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    Path(DATABASES["default"]["NAME"]).parent.mkdir(parents=True, exist_ok=True)
    # WAL lets the socket's reads run beside a write; the busy timeout rides out
    # a concurrent writer instead of failing at once with "database is locked".
    DATABASES["default"]["OPTIONS"] = {
        "timeout": CHAT_DB_TIMEOUT,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
elif DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # connect_timeout bounds a connection attempt (whole seconds, at least 2 for
    # libpq); the statement timeout is set by the server process only
    # (chat.deadlines), so migrations and management commands may run longer.
    DATABASES["default"].setdefault("OPTIONS", {})["connect_timeout"] = max(2, round(CHAT_DB_TIMEOUT))
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = os.environ.get("REDIS_URL", "")

if REDIS_URL:
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {
                # socket_timeout None: an idle read must never time out (see stack notes).
                "hosts": [{"address": REDIS_URL, "socket_timeout": None}],
                # Only the per-process hub channels receive; each carries every
                # room that process serves, so give them room for a burst.
                "capacity": 10_000,
                "expiry": 60,
            },
        }
    }
else:
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer", "CONFIG": {"capacity": 10_000}}}

# "N/Ws": at most N sends per user in any W seconds.
CHAT_SEND_RATE = os.environ.get("CHAT_SEND_RATE", "20/10s")
# At most N rooms made (by `join` of a free name, or `create`) per user in any W seconds.
CHAT_ROOM_CREATE_RATE = os.environ.get("CHAT_ROOM_CREATE_RATE", "10/60s")
# Every frame a socket sends takes a token; a socket's bucket holds BURST tokens
# and refills at RATE per second. Over it: `rate_limited`, nothing done.
CHAT_FRAME_RATE = float(os.environ.get("CHAT_FRAME_RATE", "50"))
CHAT_FRAME_BURST = int(os.environ.get("CHAT_FRAME_BURST", "200"))
# Open sockets per user (across processes with Redis); the next is closed with 4429.
CHAT_MAX_SOCKETS_PER_USER = int(os.environ.get("CHAT_MAX_SOCKETS_PER_USER", "20"))
# Rooms one socket may have joined at once.
CHAT_MAX_ROOMS_PER_SOCKET = int(os.environ.get("CHAT_MAX_ROOMS_PER_SOCKET", "500"))
# Unsent output a socket may hold: past it the server stops reading the socket's
# requests; if it does not drain within CHAT_SLOW_CLIENT_SECONDS it is closed with 1013.
CHAT_SOCKET_BUFFER_BYTES = int(os.environ.get("CHAT_SOCKET_BUFFER_BYTES", str(1024 * 1024)))
CHAT_SLOW_CLIENT_SECONDS = float(os.environ.get("CHAT_SLOW_CLIENT_SECONDS", "5"))
# Seconds any Redis call outside the channel layer's blocking receive may take
# before it counts as failed (and Redis as away for a moment).
CHAT_REDIS_TIMEOUT = float(os.environ.get("CHAT_REDIS_TIMEOUT", "2"))
# Seconds a presence entry lives without a heartbeat; a dead process's users
# leave once it passes and the sweeper runs.
CHAT_PRESENCE_TTL = float(os.environ.get("CHAT_PRESENCE_TTL", "30"))

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_AGE = 60 * 60 * 24 * 14
CSRF_COOKIE_SAMESITE = "Lax"
# The SPA reads the csrftoken cookie and echoes it in X-CSRFToken.
CSRF_COOKIE_HTTPONLY = False
CSRF_TRUSTED_ORIGINS = list(DEV_ORIGINS) + env_list("CSRF_TRUSTED_ORIGINS")
CSRF_FAILURE_VIEW = "accounts.views.csrf_failure"

CORS_ALLOWED_ORIGINS = list(DEV_ORIGINS)
CORS_ALLOW_CREDENTIALS = True
CORS_URLS_REGEX = r"^/api/.*$"

if env_bool("SECURE_COOKIES", False):
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
if env_bool("BEHIND_PROXY", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    USE_X_FORWARDED_HOST = True

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

FRONTEND_DIST = REPO_DIR / "frontend" / "dist"
STATIC_URL = "/static/"
# Only for `collectstatic`; without it whitenoise serves frontend/dist through the finders.
STATIC_ROOT = os.environ.get("STATIC_ROOT") or None
STATICFILES_DIRS = [FRONTEND_DIST] if FRONTEND_DIST.exists() else []
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    # Vite already hashes its file names; the manifest storage would hash them again.
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
# Serve straight from frontend/dist without collectstatic, so `make run` stays one step.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG


def _vite_hashed(path: str, url: str) -> bool:
    # Vite names built assets like assets/index-DiwrgTda.js: safe to cache forever.
    import re

    return bool(re.match(r"^.+[.-][0-9a-zA-Z_-]{8,12}\..+$", url)) and "/assets/" in url


WHITENOISE_IMMUTABLE_FILE_TEST = _vite_hashed

DJANGO_VITE = {
    "default": {
        "dev_mode": env_bool("VITE_DEV_MODE", False),
        "dev_server_host": os.environ.get("VITE_DEV_SERVER_HOST", "localhost"),
        "dev_server_port": int(os.environ.get("VITE_DEV_SERVER_PORT", "5173")),
        "manifest_path": FRONTEND_DIST / ".vite" / "manifest.json",
    }
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {
        "django.channels.server": {"level": "WARNING"},
        "daphne": {"level": "WARNING"},
    },
}
