"""One settings module, driven by environment variables.

With no variables set it runs on SQLite and Celery's filesystem broker (the embedded default);
with DATABASE_URL and REDIS_URL it runs on PostgreSQL and Redis. See README.md for production values.
"""

import os
import secrets
import time
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("VAR_DIR", BASE_DIR / "var"))


_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


def _env(name: str) -> str | None:
    """The stripped value, or None when unset or empty: an empty variable means "use the default"."""
    value = os.environ.get(name, "").strip()
    return value or None


def env_bool(name: str, default: bool = False) -> bool:
    # A typo such as `ture` must stop the start, not quietly turn a security setting off.
    value = _env(name)
    if value is None:
        return default
    if value.lower() in _TRUE:
        return True
    if value.lower() in _FALSE:
        return False
    raise ImproperlyConfigured(
        f"{name}={value!r} is not a yes/no value: use one of 1/0, true/false, yes/no, on/off, "
        "or leave it empty for the default."
    )


def env_int(name: str, default: int, *, minimum: int = 0, maximum: int | None = None) -> int:
    value = _env(name)
    if value is None:
        return default
    try:
        number = int(value)
    except ValueError:
        number = None
    if number is None or number < minimum or (maximum is not None and number > maximum):
        bounds = f"from {minimum} to {maximum}" if maximum is not None else f"of at least {minimum}"
        raise ImproperlyConfigured(f"{name}={value!r} is not valid: use a whole number {bounds}.")
    return number


def env_list(name: str, default: str = "") -> list[str]:
    raw = _env(name) or default
    items = [item.strip() for item in raw.split(",") if item.strip()]
    # Docker's env files keep quotes, and a space-separated list would silently become one odd value.
    bad = [item for item in items if any(char.isspace() or char in "\"'" for char in item)]
    if bad:
        raise ImproperlyConfigured(
            f"{name} has {bad[0]!r}: use comma-separated values without spaces or quotes, "
            "e.g. portal.example.org,www.example.org."
        )
    return items


def env_choice(name: str, default: str, choices: tuple[str, ...]) -> str:
    value = _env(name)
    if value is None:
        return default
    if value.upper() not in choices:
        raise ImproperlyConfigured(f"{name}={value!r} is not valid: use one of {', '.join(choices)}.")
    return value.upper()


DEBUG = env_bool("DEBUG", default=False)


def _development_secret_key() -> str:
    """With DEBUG on and no SECRET_KEY (a laptop), a random key is made once in VAR_DIR, so no key that
    signs sessions is ever committed or shared between installations."""
    path = VAR_DIR / "secret_key"
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        pass
    else:
        with os.fdopen(descriptor, "w") as handle:
            handle.write(secrets.token_urlsafe(64))
    # A second process starting at the same moment may find the file created but not yet written:
    # the key is one small write, so it appears within moments.
    for _attempt in range(250):
        key = path.read_text().strip()
        if key:
            return key
        time.sleep(0.02)
    raise ImproperlyConfigured(f"{path} is empty: delete it, or set SECRET_KEY.")


def _secret_key() -> str:
    key, key_file = _env("SECRET_KEY"), _env("SECRET_KEY_FILE")
    if key and key_file:
        raise ImproperlyConfigured("Set SECRET_KEY or SECRET_KEY_FILE, not both (leave the other empty).")
    if key_file:
        try:
            key = Path(key_file).read_text(encoding="utf-8").strip()
        except OSError as error:
            raise ImproperlyConfigured(f"SECRET_KEY_FILE={key_file}: cannot read it ({error}).") from error
        if not key:
            raise ImproperlyConfigured(f"SECRET_KEY_FILE={key_file} is empty.")
    if key:
        if key.startswith("change-me"):
            # The placeholder of deploy/production.env.example is public: refuse to run on it.
            raise ImproperlyConfigured(
                "SECRET_KEY is still the placeholder: set a real one (README, Deployment)."
            )
        return key
    if not DEBUG:
        # A key made up on the spot would differ between the web servers and workers of one deployment.
        raise ImproperlyConfigured(
            "SECRET_KEY is not set: with DEBUG off, set SECRET_KEY (or SECRET_KEY_FILE, the path of a file "
            "holding it); generate one with "
            "python -c 'import secrets; print(secrets.token_urlsafe(64))'. "
            "For development, set DEBUG=true instead and a local key is made in VAR_DIR."
        )
    return _development_secret_key()


SECRET_KEY = _secret_key()
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost,[::1]")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "kernel.apps.PortalAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "kernel.apps.PortalAxesConfig",
    "kernel",
    "stations",
    "volunteers",
    "records",
    "projects",
    "activities",
    "residents",
    "awards",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "kernel.middleware.LocaleMiddleware",
    "kernel.middleware.RejectNulMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, so it turns a refused login into the lockout page (or JSON) on the way out.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "practice_center.urls"
WSGI_APPLICATION = "practice_center.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------------
DATABASE_URL = os.environ.get("DATABASE_URL", "")
if DATABASE_URL:
    DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=60, conn_health_checks=True)}
    if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
        # An unreachable server fails a request (and /healthz) in seconds instead of the minutes TCP waits.
        DATABASES["default"].setdefault("OPTIONS", {}).setdefault("connect_timeout", 5)
else:
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": os.environ.get("SQLITE_PATH", str(VAR_DIR / "db.sqlite3")),
            "OPTIONS": {
                # WAL lets the web, the worker and beat read while one of them writes;
                # IMMEDIATE takes the write lock at BEGIN, so two writers queue instead of deadlocking.
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            },
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache and Celery -------------------------------------------------------------------------------
REDIS_URL = os.environ.get("REDIS_URL", "")


def _next_redis_database(url: str) -> str:
    """The same Redis server, one database number up (a server has databases 0 to 15 by default)."""
    parts = urlsplit(url)
    number = parts.path.strip("/") or "0"
    if parts.scheme not in {"redis", "rediss"} or not number.isdigit() or int(number) >= 15:
        raise ImproperlyConfigured(
            "Set REDIS_CACHE_URL: the cache cannot take the next database number after REDIS_URL."
        )
    return urlunsplit(parts._replace(path=f"/{int(number) + 1}"))


if REDIS_URL:
    # The cache lives in the next database number, so clearing the cache can never flush the task queues.
    REDIS_CACHE_URL = os.environ.get("REDIS_CACHE_URL") or _next_redis_database(REDIS_URL)
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_CACHE_URL}
    }
    CELERY_BROKER_URL = REDIS_URL
    CELERY_RESULT_BACKEND = REDIS_URL
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
else:
    # A file cache, so the web server, the worker and beat (separate processes) share it.
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(VAR_DIR / "cache"),
        }
    }
    CELERY_BROKER_FOLDER = Path(os.environ.get("CELERY_BROKER_FOLDER", VAR_DIR / "celery" / "broker"))
    CELERY_BROKER_URL = "filesystem://"
    # The filesystem transport only delivers to a worker running beat (-B) when in and out are one folder.
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(CELERY_BROKER_FOLDER),
        "data_folder_out": str(CELERY_BROKER_FOLDER),
        "processed_folder": str(CELERY_BROKER_FOLDER.parent / "processed"),
        "control_folder": str(CELERY_BROKER_FOLDER.parent / "control"),
        "store_processed": False,
    }
    CELERY_RESULT_BACKEND = "file://" + str(VAR_DIR / "celery" / "results")

CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = 300
CELERY_TASK_SOFT_TIME_LIMIT = 240
CELERY_RESULT_EXPIRES = 24 * 3600
CELERY_TIMEZONE = "Asia/Shanghai"
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celery" / "beat-schedule")
CELERY_BEAT_SCHEDULE = {
    "kernel.heartbeat": {"task": "kernel.heartbeat", "schedule": 60.0},
    "kernel.staged_uploads_sweep": {"task": "kernel.staged_uploads_sweep", "schedule": 3600.0},
    "records.flags_scan": {"task": "records.flags_scan", "schedule": 3600.0},
    "activities.advance": {"task": "activities.advance", "schedule": 60.0},
}

# --- Auth ----------------------------------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "admin:login"
# The lockout check first: a locked (username, client IP) pair is refused before any password is tried.
AUTHENTICATION_BACKENDS = [
    "kernel.auth.LoginLockoutBackend",
    "django.contrib.auth.backends.ModelBackend",
]

# --- Login lockout (django-axes) -----------------------------------------------------------------
# Failures count per username and client IP together: guessing at one account from one place locks that
# pair only, so an attacker elsewhere cannot lock a colleague out of the office.
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 10, minimum=1)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("LOGIN_LOCKOUT_MINUTES", 30, minimum=1))
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "kernel.auth.lockout_response"
AXES_ENABLE_ACCESS_FAILURE_LOG = True
# The form fields an attempt record keeps are starred out when they hold a secret or personal data.
AXES_SENSITIVE_PARAMETERS = ["username", "ip_address", "phone", "code", "id_number", "guardian_phone"]
# The client IP: REMOTE_ADDR only, unless LOGIN_PROXY_COUNT says how many reverse proxies stand in front
# and append to X-Forwarded-For; then the address that many places from its right end, which the client
# cannot forge (what it writes itself is further left).
LOGIN_PROXY_COUNT = env_int("LOGIN_PROXY_COUNT", 0, maximum=5)
if LOGIN_PROXY_COUNT:
    AXES_IPWARE_META_PRECEDENCE_ORDER = ("HTTP_X_FORWARDED_FOR", "REMOTE_ADDR")
    AXES_IPWARE_PROXY_COUNT = LOGIN_PROXY_COUNT - 1  # ipware counts the proxies listed in the header
    AXES_IPWARE_PROXY_ORDER = "left-most"
    IPWARE_STRICT = False  # extra addresses the client put on the left do not discard the header
else:
    AXES_IPWARE_META_PRECEDENCE_ORDER = ("REMOTE_ADDR",)


# --- Personal data of volunteers ----------------------------------------------------------------
def _id_number_keys() -> tuple[list[str], str]:
    """The keys that protect ID numbers at rest (volunteers.crypto). With DEBUG on and none set (a laptop),
    keys are derived from the local secret key, so a development database stays readable across runs."""
    keys, hash_key = env_list("ID_NUMBER_KEYS"), _env("ID_NUMBER_HASH_KEY")
    if any(key.startswith("change-me") for key in [*keys, hash_key or ""]):
        raise ImproperlyConfigured(
            "ID_NUMBER_KEYS or ID_NUMBER_HASH_KEY is still the placeholder: "
            "set real ones (README, Deployment)."
        )
    if keys and hash_key:
        return keys, hash_key
    if keys or hash_key:
        raise ImproperlyConfigured(
            "Set both ID_NUMBER_KEYS and ID_NUMBER_HASH_KEY, or (with DEBUG on) neither."
        )
    if not DEBUG:
        raise ImproperlyConfigured(
            "ID_NUMBER_KEYS and ID_NUMBER_HASH_KEY are not set: they protect volunteers' ID numbers. "
            "Make them "
            "with python -c 'from cryptography.fernet import Fernet; "
            "print(Fernet.generate_key().decode())' and "
            "python -c 'import secrets; print(secrets.token_urlsafe(32))' (README, Deployment)."
        )
    import base64
    import hashlib

    derived = hashlib.sha256(b"id-number-keys:" + SECRET_KEY.encode()).digest()
    return [base64.urlsafe_b64encode(derived).decode()], hashlib.sha256(
        b"id-hash:" + SECRET_KEY.encode()
    ).hexdigest()


ID_NUMBER_KEYS, ID_NUMBER_HASH_KEY = _id_number_keys()
# Prefix of the unified volunteer number (统一编号), e.g. the county's administrative code.
VOLUNTEER_NUMBER_PREFIX = _env("VOLUNTEER_NUMBER_PREFIX") or "ZY"
if not VOLUNTEER_NUMBER_PREFIX.isalnum() or len(VOLUNTEER_NUMBER_PREFIX) > 8:
    raise ImproperlyConfigured("VOLUNTEER_NUMBER_PREFIX: use up to 8 letters or digits, e.g. 350721.")
# Excel imports of volunteers (volunteers.imports): larger files are checked and imported by the worker.
VOLUNTEER_IMPORT_INLINE_ROWS = env_int("VOLUNTEER_IMPORT_INLINE_ROWS", 1000, minimum=1)
VOLUNTEER_IMPORT_MAX_MB = env_int("VOLUNTEER_IMPORT_MAX_MB", 20, minimum=1)
# The Celery queue of import tasks (empty: the default queue).
VOLUNTEER_IMPORT_QUEUE = _env("VOLUNTEER_IMPORT_QUEUE")

# --- Rules of the domain -------------------------------------------------------------------------
# A recorded inspection can be corrected by its inspector (or above) for this many days, then it is locked.
INSPECTION_EDIT_DAYS = env_int("INSPECTION_EDIT_DAYS", 30, minimum=1)
# Photos picked on a form that came back with an error are kept for this long, for the next try.
STAGED_UPLOAD_HOURS = env_int("STAGED_UPLOAD_HOURS", 24, minimum=1)
# Service hours (records): a service's length is rounded to steps of this many minutes, down, to the
# nearest step or up; one volunteer's services of one day may add up to at most this many hours.
SERVICE_HOURS_STEP_MINUTES = env_int("SERVICE_HOURS_STEP_MINUTES", 30, minimum=1, maximum=60)
SERVICE_HOURS_ROUNDING = env_choice("SERVICE_HOURS_ROUNDING", "DOWN", ("DOWN", "NEAREST", "UP"))
SERVICE_HOURS_DAY_CAP = env_int("SERVICE_HOURS_DAY_CAP", 12, minimum=1, maximum=24)
# Star levels (星级志愿者): the approved hours each star needs, ascending.
_stars = env_list("SERVICE_STAR_THRESHOLDS", "100,300,600,1000,1500")
SERVICE_STAR_THRESHOLDS = [int(hours) for hours in _stars if hours.isdigit()]
_ascending = sorted(set(SERVICE_STAR_THRESHOLDS))
if not _stars or len(_stars) != len(SERVICE_STAR_THRESHOLDS) or _ascending != SERVICE_STAR_THRESHOLDS:
    raise ImproperlyConfigured(
        "SERVICE_STAR_THRESHOLDS: give ascending whole hours, comma-separated, e.g. 100,300,600,1000,1500."
    )
# Review flags: a volunteer serving, or one approver approving, more hours than this in a week.
SERVICE_FLAG_VOLUNTEER_WEEK_HOURS = env_int("SERVICE_FLAG_VOLUNTEER_WEEK_HOURS", 40, minimum=1)
SERVICE_FLAG_APPROVER_WEEK_HOURS = env_int("SERVICE_FLAG_APPROVER_WEEK_HOURS", 300, minimum=1)
# The TrueType CJK font embedded in service certificates (Debian: fonts-wqy-microhei).
CERTIFICATE_FONT_PATH = _env("CERTIFICATE_FONT_PATH") or "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"
# Where the portal is reached from outside (scheme and host, no path): the QR code of a certificate, printed
# on paper, opens its verification page there.
SITE_URL = (_env("SITE_URL") or "http://127.0.0.1:8000").rstrip("/")
# Activities: a volunteer cancels their sign-up until this many hours before the start; check-in opens
# this many minutes before the start and check-out is taken until this many minutes after the end, when
# missed check-outs are closed (at the end) and flagged; the check-in QR code changes every so many
# seconds; an offline roster entry received this many minutes after it was made is shown as late; the
# report is due this many days after the end; an activity lasts at most this many days.
ACTIVITY_CANCEL_HOURS_BEFORE = env_int("ACTIVITY_CANCEL_HOURS_BEFORE", 2, minimum=0, maximum=24 * 30)
ACTIVITY_CHECKIN_EARLY_MINUTES = env_int("ACTIVITY_CHECKIN_EARLY_MINUTES", 60, minimum=0, maximum=24 * 60)
ACTIVITY_CHECKOUT_GRACE_MINUTES = env_int("ACTIVITY_CHECKOUT_GRACE_MINUTES", 120, minimum=0, maximum=24 * 60)
ACTIVITY_QR_SECONDS = env_int("ACTIVITY_QR_SECONDS", 60, minimum=10, maximum=600)
ACTIVITY_OFFLINE_LATE_MINUTES = env_int("ACTIVITY_OFFLINE_LATE_MINUTES", 2, minimum=0)
ACTIVITY_REPORT_DAYS = env_int("ACTIVITY_REPORT_DAYS", 3, minimum=0, maximum=90)
# The public activity list's first pages are served from the cache to visitors without a session for this
# many seconds (0: never); a change an activity's service makes drops them at once, the places a sign-up
# takes show within this time (kernel.pagecache).
PUBLIC_PAGE_CACHE_SECONDS = env_int("PUBLIC_PAGE_CACHE_SECONDS", 30, minimum=0, maximum=3600)
ACTIVITY_MAX_DAYS = env_int("ACTIVITY_MAX_DAYS", 14, minimum=1, maximum=366)
# Residents' requests
# Time limits of each step (the reminders watch them), and the public form's limits against abuse.
REQUEST_DISPATCH_HOURS = env_int("REQUEST_DISPATCH_HOURS", 24, minimum=1)  # submitted/declined › dispatched
REQUEST_ACCEPT_HOURS = env_int("REQUEST_ACCEPT_HOURS", 24, minimum=1)  # dispatched › accepted or declined
REQUEST_FINISH_DAYS = env_int("REQUEST_FINISH_DAYS", 14, minimum=1)  # accepted › completed
REQUEST_SUBMISSIONS_PER_IP_HOUR = env_int("REQUEST_SUBMISSIONS_PER_IP_HOUR", 5, minimum=1)
REQUEST_SUBMISSIONS_PER_PHONE_DAY = env_int("REQUEST_SUBMISSIONS_PER_PHONE_DAY", 3, minimum=1)

# --- Language and time ---------------------------------------------------------------------------
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("Simplified Chinese")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

# --- Static and media -----------------------------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", VAR_DIR / "staticfiles"))
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = os.environ.get("MEDIA_URL", "/media/")
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", VAR_DIR / "media"))
# Evidence photos and other files not for the public: never under MEDIA_ROOT, only served through views
# that check the scope of who asks (see stations.views.protected_file).
PROTECTED_MEDIA_ROOT = Path(os.environ.get("PROTECTED_MEDIA_ROOT", VAR_DIR / "protected"))
PROTECTED_MEDIA_URL = "/protected/"
# Serve uploads from Django itself (a single-machine install); a real deployment lets its web server do it.
SERVE_MEDIA = env_bool("SERVE_MEDIA", default=DEBUG)
# STATIC_MANIFEST=true (after collectstatic) serves hashed, compressed, far-future-cached files.
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "protected": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": PROTECTED_MEDIA_ROOT, "base_url": PROTECTED_MEDIA_URL},
    },
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if env_bool("STATIC_MANIFEST")
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
# Without collectstatic (development, tests) whitenoise serves straight from the finders.
WHITENOISE_USE_FINDERS = not env_bool("STATIC_MANIFEST")
if WHITENOISE_USE_FINDERS:
    STATIC_ROOT.mkdir(parents=True, exist_ok=True)
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024

# --- Admin unit map ---------------------------------------------------------------------------------
# The map above the unit list draws on a plain background and asks nothing of any other host. A tile
# server of your own (https://tiles.example.org/{z}/{x}/{y}.png) adds a base layer.
ADMIN_MAP_TILE_URL = _env("ADMIN_MAP_TILE_URL") or ""
ADMIN_MAP_TILE_ATTRIBUTION = _env("ADMIN_MAP_TILE_ATTRIBUTION") or ""
if ADMIN_MAP_TILE_URL and (
    not ADMIN_MAP_TILE_URL.startswith(("https://", "http://", "/"))
    or not all(part in ADMIN_MAP_TILE_URL for part in ("{z}", "{x}", "{y}"))
):
    raise ImproperlyConfigured(
        f"ADMIN_MAP_TILE_URL={ADMIN_MAP_TILE_URL!r} is not a tile URL: give one with {{z}}, {{x}} and {{y}}, "
        "e.g. https://tiles.example.org/{z}/{x}/{y}.png."
    )

# --- Text messages (SMS) ------------------------------------------------------------------------
# The dotted path of the backend class (kernel.sms.SmsBackend); the default only logs the message.
SMS_BACKEND = _env("SMS_BACKEND") or "kernel.sms.LoggingSmsBackend"
# Volunteers' login codes: minutes a code stays valid, and how many codes one phone, and one client
# address, may ask for in an hour (one phone also waits a minute between two codes).
SMS_CODE_MINUTES = env_int("SMS_CODE_MINUTES", 5, minimum=1, maximum=60)
SMS_CODE_PER_PHONE_HOUR = env_int("SMS_CODE_PER_PHONE_HOUR", 5, minimum=1)
SMS_CODE_PER_IP_HOUR = env_int("SMS_CODE_PER_IP_HOUR", 20, minimum=1)
# Self-registration answers "this phone / ID number is registered already" to one client address this
# many times an hour; then that address may not register for the hour.
REGISTRATION_CHECKS_PER_IP_HOUR = env_int("REGISTRATION_CHECKS_PER_IP_HOUR", 10, minimum=1)

# --- Email ---------------------------------------------------------------------------------------
EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25, minimum=1, maximum=65535)
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS")
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "noreply@localhost")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# --- HTTPS and cookies ----------------------------------------------------------------------------
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT")
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE")
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE")
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS")
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD")
if env_bool("BEHIND_HTTPS_PROXY"):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SESSION_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"

# --- REST API ------------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # Token first: an unauthenticated call then gets 401 with `WWW-Authenticate: Token`, not 403.
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_FILTER_BACKENDS": ["kernel.api.FilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "kernel.api.Pagination",
    "DEFAULT_SCHEMA_CLASS": "kernel.schema.PortalAutoSchema",
    "EXCEPTION_HANDLER": "kernel.api.exception_handler",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "新时代文明实践中心 API",
    "DESCRIPTION": "API of the county practice-center portal: units, volunteers, service records and more.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    "COMPONENT_SPLIT_REQUEST": True,
    # Choice sets named once, where a field name ("status", "kind") has several across the API.
    "ENUM_NAME_OVERRIDES": {
        "RecordStatusEnum": "records.models.RecordStatus",
        "FlagKindEnum": "records.models.FlagKind",
        "ProjectStatusEnum": "projects.models.ProjectStatus",
        "ActivityStatusEnum": "activities.models.ActivityStatus",
        "SignupStatusEnum": "activities.models.SignupStatus",
        "AttendanceMethodEnum": "activities.models.AttendanceMethod",
        "RequestStatusEnum": "residents.models.RequestStatus",
    },
    # Swagger UI from our own static files, never a CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

# --- Logging -------------------------------------------------------------------------------------
# ID numbers and phones are masked in every log record (kernel.pii, installed by the kernel app) and in
# the error reports: the 500 mail and the debug page.
DEFAULT_EXCEPTION_REPORTER = "kernel.pii.PiiExceptionReporter"
DEFAULT_EXCEPTION_REPORTER_FILTER = "kernel.pii.PiiExceptionReporterFilter"
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {
        "handlers": ["console"],
        "level": env_choice("LOG_LEVEL", "INFO", ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")),
    },
    "loggers": {"django.db.backends": {"level": "INFO"}},
}
