"""Settings, all from the environment.

With nothing set this runs alone on one machine: a SQLite file, Channels'
in-memory layer, in-process presence and rate limits. `REDIS_URL` moves the
channel layer, presence and rate limits to Redis; `DATABASE_URL` moves storage
to PostgreSQL. The README lists every variable.
"""

import ipaddress
import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
from csp.constants import NONCE, NONE, SELF
from django.core.exceptions import ImproperlyConfigured

from config.logs import logging_config

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


def env_positive_int(name: str, default: int) -> int:
    value = os.environ.get(name) or str(default)
    try:
        number = int(value)
    except ValueError:
        number = 0
    if number < 1:
        raise ImproperlyConfigured(f"{name} must be a whole number above 0, not {value!r}")
    return number


def websocket_origin(origin: str) -> str:
    """http://host -> ws://host, https://host -> wss://host."""
    return "ws" + origin[len("http"):] if origin.startswith("http") else origin


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
    # Staff's admin at /admin/: users, rooms, messages (chat/admin.py, accounts/admin.py).
    "django.contrib.admin",
    "django.contrib.messages",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.staticfiles",
    "corsheaders",
    "csp",
    "axes",
    "channels",
    "django_vite",
    "accounts",
    "chat",
    "web",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # After whitenoise (a static file needs no request id): names the request in its log lines.
    "config.logs.RequestContextMiddleware",
    # After whitenoise: the bundle's files need no policy, only documents and /api/ answers.
    "web.csp.ContentSecurityPolicyMiddleware",
    "corsheaders.middleware.CorsMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Turns a locked-out login's answer into the 429 of accounts.lockout.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
ASGI_APPLICATION = "config.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                # The admin's pages need these two.
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ]
        },
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
        # No `SELECT 1` before each use of a kept connection: it was a round
        # trip per socket request. A connection that broke (a database restart)
        # fails one request, and Django then closes it because errors occurred.
        conn_health_checks=False,
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

# REDIS_URLS (comma-separated) spreads the channel layer (channels-redis' own
# sharding of channels and groups over its `hosts`) and presence (rooms by a
# consistent hash, chat/presence/sharded.py) over several Redis servers; rate
# limits and the socket registry stay on REDIS_URL, the first of them when unset.
# Every process needs the same list in the same order (docs/deploy.md).
REDIS_URLS = env_list("REDIS_URLS")
REDIS_URL = os.environ.get("REDIS_URL", "") or (REDIS_URLS[0] if REDIS_URLS else "")
if not REDIS_URLS and REDIS_URL:
    REDIS_URLS = [REDIS_URL]

if REDIS_URL:
    CHANNEL_LAYERS = {
        "default": {
            # Redis pub/sub: a group send is one PUBLISH and each process's hub
            # is pushed what its rooms get, where the list-based layer took four
            # round trips per send and a blocking pop per receive (issue 7: a
            # quarter less server CPU per delivery, half the Redis CPU). It keeps
            # nothing for a process that is away; the store does (see
            # docs/architecture.md, "Live delivery").
            "BACKEND": "chat.layers.PubSubChannelLayer",
            "CONFIG": {
                # socket_timeout None: an idle read must never time out (see stack notes).
                # driver_info None: no CLIENT SETINFO per new connection (chat/redis.py).
                "hosts": [{"address": url, "socket_timeout": None, "driver_info": None} for url in REDIS_URLS],
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
# "N/Ws": at most N sign-ups (POST /api/users) per client address in any W seconds.
CHAT_SIGNUP_RATE = os.environ.get("CHAT_SIGNUP_RATE", "5/3600s")
# Seconds a presence entry lives without a heartbeat; a dead process's users
# leave once it passes and the sweeper runs.
CHAT_PRESENCE_TTL = float(os.environ.get("CHAT_PRESENCE_TTL", "30"))

# ---- Web Push (chat/notifications/) ----
# The server's VAPID key pair, base64url: the private key as its 32-byte scalar
# (or DER), the public key as an uncompressed P-256 point (65 bytes), which the
# page carries for the browser's pushManager.subscribe. Web Push is on when both
# are set; `make run` makes a pair in var/ the first time.
VAPID_PRIVATE_KEY = os.environ.get("VAPID_PRIVATE_KEY", "").strip()
VAPID_PUBLIC_KEY = os.environ.get("VAPID_PUBLIC_KEY", "").strip()
# Who push services may contact about this server's pushes (a mailto: or https: URL).
VAPID_SUBJECT = os.environ.get("VAPID_SUBJECT", "").strip() or "mailto:admin@localhost"
# push_subscribe takes only https endpoints; this (or DEBUG) also lets a plain
# http one on a loopback address through: a push service of one's own on this
# machine (the tests' receiver).
CHAT_PUSH_ALLOW_HTTP = env_bool("CHAT_PUSH_ALLOW_HTTP", False)

# ---- login lock-out (django-axes; accounts/lockout.py) ----
# CHAT_LOGIN_FAILURE_LIMIT failed logins for one username, or from one client
# address, lock logins out; the lock lifts CHAT_LOGIN_LOCKOUT seconds after the
# failures stop. Counted in the database, so every process sees one count.
CHAT_LOGIN_FAILURE_LIMIT = env_positive_int("CHAT_LOGIN_FAILURE_LIMIT", 10)
CHAT_LOGIN_LOCKOUT = env_positive_int("CHAT_LOGIN_LOCKOUT", 900)
AUTHENTICATION_BACKENDS = [
    # First: refuses a locked-out login before the password is checked.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_HANDLER = "axes.handlers.database.AxesDatabaseHandler"
AXES_FAILURE_LIMIT = CHAT_LOGIN_FAILURE_LIMIT
AXES_COOLOFF_TIME = timedelta(seconds=CHAT_LOGIN_LOCKOUT)
# Separately: by username, and by address.
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_CLIENT_IP_CALLABLE = "accounts.limits.client_address"
AXES_USERNAME_CALLABLE = "accounts.lockout.attempted_username"
AXES_LOCKOUT_CALLABLE = "accounts.lockout.lockout_response"
# Tries during a lock-out neither count nor extend it: an attacker who keeps
# trying cannot keep the owner out for good.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
# accounts.lockout resets a username's failures on its login, and only those.
AXES_RESET_ON_SUCCESS = False
# No row per successful login: nobody reads them, and they would grow forever.
AXES_DISABLE_ACCESS_LOG = True
AXES_ENABLE_ADMIN = False

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
    # HTTPS-only cookies mean the site is HTTPS-only: browsers remember that for
    # a year, subdomains included. SecurityMiddleware sends it on HTTPS answers.
    SECURE_HSTS_SECONDS = 60 * 60 * 24 * 365
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
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
# ---- attachments (chat/uploads/) ----
# The largest file POST /api/uploads takes; the server stops reading a body
# past it (plus a little for the multipart envelope, chat/httpbody.py).
CHAT_UPLOAD_MAX_BYTES = env_positive_int("CHAT_UPLOAD_MAX_BYTES", 25 * 1024 * 1024)
# What one user's uploads that no message holds yet may add up to: uploads are
# kept a day before the clean-up, so without it one user could fill the disk.
CHAT_UPLOAD_PENDING_MAX_BYTES = env_positive_int("CHAT_UPLOAD_PENDING_MAX_BYTES", 1024 * 1024 * 1024)
# Images over this many pixels are stored as plain files (never decoded).
CHAT_IMAGE_MAX_PIXELS = 50_000_000
# Local storage: where the files live (shared by every process on the machine).
CHAT_UPLOAD_DIR = Path(os.environ.get("CHAT_UPLOAD_DIR") or VAR_DIR / "uploads")
# Behind nginx (the compose file): Django authorises a download and nginx sends
# the bytes from its internal location (X-Accel-Redirect) instead of Daphne.
CHAT_X_ACCEL = env_bool("CHAT_X_ACCEL", False)
CHAT_X_ACCEL_LOCATION = os.environ.get("CHAT_X_ACCEL_LOCATION", "/_uploads/")
# S3 or any S3-compatible store instead of the filesystem; the keys come from
# the usual AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY (or boto3's other sources).
CHAT_S3_BUCKET = os.environ.get("CHAT_S3_BUCKET", "")
CHAT_S3_ENDPOINT_URL = os.environ.get("CHAT_S3_ENDPOINT_URL", "") or None
CHAT_S3_REGION = os.environ.get("CHAT_S3_REGION", "") or None
# A download is a redirect to a presigned URL that lives this many seconds.
CHAT_S3_URL_SECONDS = env_positive_int("CHAT_S3_URL_SECONDS", 300)
if CHAT_S3_BUCKET:
    _UPLOAD_STORAGE = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": CHAT_S3_BUCKET, "endpoint_url": CHAT_S3_ENDPOINT_URL, "region_name": CHAT_S3_REGION,
            # Private objects, reached only through presigned URLs.
            "default_acl": None, "querystring_auth": True, "querystring_expire": CHAT_S3_URL_SECONDS,
            # Keys are unguessable ids, never reused: no HEAD before each write.
            "file_overwrite": True, "signature_version": "s3v4",
            "addressing_style": "path" if CHAT_S3_ENDPOINT_URL else None,
        },
    }
else:
    _UPLOAD_STORAGE = {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        # Readable by others: nginx (another user, in compose another container)
        # sends them. The ids in the paths are what keeps them private.
        "OPTIONS": {"location": str(CHAT_UPLOAD_DIR), "base_url": None, "file_permissions_mode": 0o644,
                    "directory_permissions_mode": 0o755},
    }

STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "uploads": _UPLOAD_STORAGE,
    # Vite already hashes its file names; the manifest storage would hash them again.
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
# Serve straight from frontend/dist without collectstatic, so `make run` stays one step.
# The build writes a .br and a .gz beside each text file (vite.config.js);
# whitenoise sends the one Accept-Encoding allows, with Vary: Accept-Encoding.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG
# Files without a hash in their name (favicon.svg) may change under the same
# URL: a minute at most, none in DEBUG. Hashed ones are immutable (below).
WHITENOISE_MAX_AGE = 0 if DEBUG else 60


def _vite_hashed(path: str, url: str) -> bool:
    # Vite names built assets like assets/index-DiwrgTda.js: safe to cache forever.
    import re

    return bool(re.match(r"^.+[.-][0-9a-zA-Z_-]{8,12}\..+$", url)) and "/assets/" in url


WHITENOISE_IMMUTABLE_FILE_TEST = _vite_hashed

VITE_DEV_MODE = env_bool("VITE_DEV_MODE", False)
VITE_DEV_SERVER_HOST = os.environ.get("VITE_DEV_SERVER_HOST", "localhost")
VITE_DEV_SERVER_PORT = int(os.environ.get("VITE_DEV_SERVER_PORT", "5173"))
DJANGO_VITE = {
    "default": {
        "dev_mode": VITE_DEV_MODE,
        "dev_server_host": VITE_DEV_SERVER_HOST,
        "dev_server_port": VITE_DEV_SERVER_PORT,
        "manifest_path": FRONTEND_DIST / ".vite" / "manifest.json",
    }
}

# Content-Security-Policy (django-csp): the page runs its own bundle and nothing
# else, no inline script or style. web.csp adds the socket's own ws:/wss: origin
# per request. DEV_ORIGINS may call the API (npm run dev).
_VITE_DEV_SERVER = f"http://{VITE_DEV_SERVER_HOST}:{VITE_DEV_SERVER_PORT}"
# django-vite's dev mode loads the app from the Vite dev server, with one inline
# script (the React refresh preamble) and the <style> tags Vite's client injects:
# those carry this response's nonce. Only in dev mode.
_DEV_SERVER = [_VITE_DEV_SERVER] if VITE_DEV_MODE else []
_DEV_INLINE = [NONCE] if VITE_DEV_MODE else []



def _origin(url: str) -> str:
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


_S3_ORIGINS = ([_origin(CHAT_S3_ENDPOINT_URL)] if CHAT_S3_ENDPOINT_URL else ["https://*.amazonaws.com"]) if CHAT_S3_BUCKET else []
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF, *_DEV_SERVER],
        # Also the service worker's rule (worker-src falls back to script-src):
        # the app's own /sw.js, which shows Web Push notifications.
        "script-src": [SELF, *_DEV_SERVER, *_DEV_INLINE],
        "style-src": [SELF, *_DEV_SERVER, *_DEV_INLINE],
        # The page's favicon is a data: URI.
        # Attachments' images: this server's /api/uploads/, or S3's presigned URLs it redirects to.
        "img-src": [SELF, "data:", *_DEV_SERVER, *_S3_ORIGINS],
        "connect-src": [
            SELF,
            *DEV_ORIGINS,
            *(websocket_origin(origin) for origin in DEV_ORIGINS),
            *(origin for server in _DEV_SERVER for origin in (server, websocket_origin(server))),
        ],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}

# ---- operations (README "Operations") ----
# LOG_FORMAT=json: one JSON object a line, with request/socket id, user and room
# (config/logs.py); plain lines otherwise, as `make run` prints them.
LOG_FORMAT = os.environ.get("LOG_FORMAT", "plain").strip().lower() or "plain"
if LOG_FORMAT not in ("plain", "json"):
    raise ImproperlyConfigured(f"LOG_FORMAT must be plain or json, not {LOG_FORMAT!r}")
# Daphne's line per HTTP request and per socket event, through logging.
ACCESS_LOG = env_bool("ACCESS_LOG", False)
LOGGING = logging_config(json=LOG_FORMAT == "json", level=os.environ.get("LOG_LEVEL", "INFO"))

# /metrics (Prometheus' text format) answers a peer in CHAT_METRICS_ALLOW (the
# connection's own address, never a forwarded one) or a request with
# `Authorization: Bearer CHAT_METRICS_TOKEN`; anyone else gets 404.
# CHAT_METRICS=0 turns the counting off altogether (to measure what it costs).
CHAT_METRICS = env_bool("CHAT_METRICS", True)
CHAT_METRICS_ALLOW = env_list(
    "CHAT_METRICS_ALLOW", "127.0.0.0/8,::1/128,10.0.0.0/8,172.16.0.0/12,192.168.0.0/16,fc00::/7"
)
for _cidr in CHAT_METRICS_ALLOW:
    try:
        ipaddress.ip_network(_cidr, strict=False)
    except ValueError:
        raise ImproperlyConfigured(f"CHAT_METRICS_ALLOW: {_cidr!r} is not an address or a network") from None
CHAT_METRICS_TOKEN = os.environ.get("CHAT_METRICS_TOKEN", "")

# On SIGTERM the server closes its sockets with 1012 over this many seconds, in
# random order, so their clients do not all come back to the others at once.
CHAT_DRAIN_SECONDS = float(os.environ.get("CHAT_DRAIN_SECONDS", "5"))
