"""Settings shared by every environment. Everything a deployment changes comes from the environment."""

from datetime import timedelta
from pathlib import Path

from django.utils.translation import gettext_lazy as _

from opsteam.lib.env import (
    database_from_url,
    env_bool,
    env_choice,
    env_int,
    env_list,
    env_origins_by_key,
    env_str,
    env_time,
    env_url,
)
from opsteam.lib.net import networks_parse

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = Path(env_str("OPSTEAM_VAR_DIR", str(BASE_DIR / "var")))

SECRET_KEY = env_str("SECRET_KEY", "dev-only-insecure-key-change-me")
DEBUG = env_bool("DEBUG", False)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_celery_beat",
    "django_htmx",
    "axes",
    "csp",
    "opsteam",
    "roles",
    "checklists",
]

MIDDLEWARE = [
    # Outermost: a database outage anywhere below (sessions, login, a view) answers 503, not 500 (issue 7).
    "opsteam.middleware.DatabaseUnavailableMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "opsteam.middleware.NulCharacterMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # A remembered phone's session slides on, once a day (issue 17).
    "roles.middleware.RememberedDeviceMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # A page URL opened with the wrong method: a page that says so instead of a blank 405.
    "opsteam.middleware.MethodNotAllowedPageMiddleware",
    # Last: turns a locked-out login into the cool-off page (429).
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "opsteam.urls"
WSGI_APPLICATION = "opsteam.wsgi.application"

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
                "roles.context_processors.member",
            ],
        },
    },
]

DATABASES = {"default": database_from_url("DATABASE_URL", f"sqlite:///{VAR_DIR / 'opsteam.sqlite3'}")}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# Login throttling (issue 7): a username from one address is locked for a cool-off after repeated failures.
# Not the whole address at that limit (a shop office shares one IP) and not forever (the cool-off ends by itself).
AUTHENTICATION_BACKENDS = ["roles.login.LoginThrottleBackend", "roles.login.MemberModelBackend"]
AXES_FAILURE_LIMIT = env_int("OPSTEAM_LOGIN_FAILURE_LIMIT", 5, minimum=1)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("OPSTEAM_LOGIN_COOLOFF_MINUTES", 15, minimum=1))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
# ...and an address, across usernames, at a higher limit (issue 15: 10 logins x 4 guesses from one address locked
# nothing). Behind a proxy, set OPSTEAM_TRUSTED_PROXIES: else every login comes from the proxy's one address.
OPSTEAM_LOGIN_IP_FAILURE_LIMIT = env_int("OPSTEAM_LOGIN_IP_FAILURE_LIMIT", 20, minimum=1)
AXES_HANDLER = "roles.login.LoginThrottleHandler"
AXES_RESET_ON_SUCCESS = True
# The cool-off runs from the lock-out: more wrong guesses while locked do not push it further out.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_CLIENT_IP_CALLABLE = "opsteam.lib.net.client_ip"
AXES_LOCKOUT_CALLABLE = "roles.login.lockout_response"
AXES_VERBOSE = False
# Reverse proxies whose X-Forwarded-For is believed (addresses or CIDR ranges, comma-separated); see docs/deployment.md.
OPSTEAM_TRUSTED_PROXIES = env_list("OPSTEAM_TRUSTED_PROXIES", [])
networks_parse("OPSTEAM_TRUSTED_PROXIES", OPSTEAM_TRUSTED_PROXIES)  # a typo stops start-up, not the first login

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "landing"  # the director on the board, a lead on their role's, staff on today (issue 20)
LOGOUT_REDIRECT_URL = "login"

# Time: the business day is the Asia/Shanghai calendar day (STYLE §5).
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
# Chinese numbers grouped by thousands with a comma (35,800.50 元), as the shop writes them (issue 17).
FORMAT_MODULE_PATH = ["opsteam.formats"]
USE_TZ = True

STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(VAR_DIR / "static")))
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(VAR_DIR / "media")))

# Uploads: photos from a phone camera. Larger bodies are refused before they reach a view.
OPSTEAM_PHOTO_MAX_BYTES = env_int("OPSTEAM_PHOTO_MAX_BYTES", 8 * 1024 * 1024, minimum=1024)
DATA_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
# The KPI import (docs/board.md): rows read below the header (a year of days is 366), and what an .xlsx may unpack
# to. The file itself is at most 5 MB; a workbook is a zip, and 1 MB of zip can unpack to gigabytes. A year of a
# 100-column export unpacks to about 2 MB; reading 20 MB of sheet takes a web worker about 5 seconds.
OPSTEAM_IMPORT_MAX_ROWS = env_int("OPSTEAM_IMPORT_MAX_ROWS", 5000, minimum=1)
OPSTEAM_IMPORT_MAX_UNZIPPED_BYTES = env_int("OPSTEAM_IMPORT_MAX_UNZIPPED_BYTES", 20 * 1024 * 1024, minimum=1024 * 1024)

# Yesterday's unfinished items stay on the today page until this local time (issue 3).
OPSTEAM_CARRYOVER_CUTOFF = env_time("OPSTEAM_CARRYOVER_CUTOFF", "12:00")

# Escalation (issue 4): items due longer ago than this are not escalated any more (a first deploy on old
# data, or a very long outage, must not flood everyone); the one-click acknowledge link expires after this.
OPSTEAM_ESCALATION_LOOKBACK_HOURS = env_int("OPSTEAM_ESCALATION_LOOKBACK_HOURS", 48, minimum=1)
OPSTEAM_ACK_LINK_MAX_AGE_HOURS = env_int("OPSTEAM_ACK_LINK_MAX_AGE_HOURS", 72, minimum=1)
# The board (issue 20): a member is nudged (催一下) at most once in this many minutes; an open board asks for
# who is behind every so many seconds; the director and the leads get the day's digest at this local time on
# working days.
OPSTEAM_NUDGE_INTERVAL_MINUTES = env_int("OPSTEAM_NUDGE_INTERVAL_MINUTES", 30, minimum=1)
OPSTEAM_BOARD_POLL_SECONDS = env_int("OPSTEAM_BOARD_POLL_SECONDS", 30, minimum=1)
OPSTEAM_DIGEST_AT = env_time("OPSTEAM_DIGEST_AT", "17:00")
# Links in emails and robot messages are absolute: the address people open OpsTeam at.
# A malformed address (no http:// or https://) stops start-up instead of sending broken links.
OPSTEAM_BASE_URL = env_url("OPSTEAM_BASE_URL", "http://127.0.0.1:8000", schemes={"http", "https"}).rstrip("/")
# Group robots may only be called on their vendor's own host, over https: a webhook pointing anywhere else
# (an internal address, another vendor) is refused when saved and again before every call (SSRF).
# `<kind>=<host>` entries, comma-separated; `http://host:port` or `http://host:*` only for a local test server.
OPSTEAM_ROBOT_HOSTS = env_origins_by_key(
    "OPSTEAM_ROBOT_HOSTS",
    "dingtalk=oapi.dingtalk.com,wecom=qyapi.weixin.qq.com,feishu=open.feishu.cn,feishu=open.larksuite.com",
    keys={"dingtalk", "wecom", "feishu"},
)

# Workplace suite apps (issue 21, docs/integrations.md). The vendors' hosts per part of their API; one
# OPSTEAM_SUITE_BASE_<KIND> (e.g. http://127.0.0.1:8100 for a local fake) replaces all of a vendor's hosts.
_SUITE_HOSTS = {
    "dingtalk": {"oapi": "https://oapi.dingtalk.com", "api": "https://api.dingtalk.com", "login": "https://login.dingtalk.com"},
    "wecom": {"api": "https://qyapi.weixin.qq.com", "oauth": "https://open.weixin.qq.com", "login": "https://login.work.weixin.qq.com"},
    "feishu": {"api": "https://open.feishu.cn", "login": "https://accounts.feishu.cn"},
}
OPSTEAM_SUITE_HOSTS = {
    kind: dict.fromkeys(parts, env_url(f"OPSTEAM_SUITE_BASE_{kind.upper()}", "", schemes={"http", "https"}).rstrip("/"))
    if env_str(f"OPSTEAM_SUITE_BASE_{kind.upper()}", "")
    else parts
    for kind, parts in _SUITE_HOSTS.items()
}
# The suites' access tokens and replay guard live in Redis (the broker's when this is empty and it is Redis).
OPSTEAM_SUITE_REDIS_URL = env_str("OPSTEAM_SUITE_REDIS_URL", "")
# The key sealing the suites' credentials at rest (SECRET_KEY when empty); old keys, comma-separated, still open them.
OPSTEAM_FIELD_KEY = env_str("OPSTEAM_FIELD_KEY", "")
OPSTEAM_FIELD_KEY_FALLBACKS = env_list("OPSTEAM_FIELD_KEY_FALLBACKS", [])
# A rate-limited suite message waits this long when the vendor does not say (Feishu's x-ogw-ratelimit-reset does).
OPSTEAM_SUITE_RATE_DELAY_SECONDS = env_int("OPSTEAM_SUITE_RATE_DELAY_SECONDS", 60, minimum=1)
# A callback older (or newer) than this, or one whose nonce was seen within it, is refused as a replay.
OPSTEAM_SUITE_CALLBACK_WINDOW_SECONDS = env_int("OPSTEAM_SUITE_CALLBACK_WINDOW_SECONDS", 300, minimum=30)

# Email
EMAIL_BACKEND = env_str("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25, minimum=1)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "opsteam@localhost")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
ADMINS = [("Admin", addr) for addr in env_list("OPSTEAM_ADMIN_EMAILS", [])]

# Celery. The laptop default is kombu's filesystem transport: no broker server needed.
_BROKER_DEFAULT = env_str("REDIS_URL", "") or "filesystem://"
CELERY_BROKER_URL = env_url("CELERY_BROKER_URL", _BROKER_DEFAULT, schemes={"redis", "rediss", "filesystem", "memory", "amqp"})
CELERY_BROKER_TRANSPORT_OPTIONS: dict = {}
if CELERY_BROKER_URL.startswith("filesystem://"):
    _queue_dir = VAR_DIR / "broker"
    # kombu's filesystem transport expects its folders to exist.
    for _sub in ("queue", "processed", "control"):
        (_queue_dir / _sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_queue_dir / "queue"),
        "data_folder_out": str(_queue_dir / "queue"),
        "processed_folder": str(_queue_dir / "processed"),
        "control_folder": str(_queue_dir / "control"),
        "store_processed": False,
    }
CELERY_TASK_IGNORE_RESULT = True
CELERY_TIMEZONE = TIME_ZONE
CELERY_ENABLE_UTC = True
CELERY_TASK_ACKS_LATE = True  # a worker killed mid-task leaves the message for the next one
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", False)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
        "roles.authentication.MemberTokenAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    # DRF's three, with a JSON parser that refuses deeply nested bodies (issue 15).
    "DEFAULT_PARSER_CLASSES": ["opsteam.parsers.JSONParser", "rest_framework.parsers.FormParser", "rest_framework.parsers.MultiPartParser"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_PAGINATION_CLASS": "opsteam.pagination.Pagination",
    "PAGE_SIZE": 100,
    "EXCEPTION_HANDLER": "opsteam.api.exception_handler",
    "DEFAULT_CONTENT_NEGOTIATION_CLASS": "opsteam.negotiation.ContentNegotiation",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "OpsTeam API",
    "DESCRIPTION": _("The daily routine of an e-commerce shop team: checklists, ticks and history."),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # Several models have a field named "kind": give each choice set its own schema name.
    "ENUM_NAME_OVERRIDES": {
        "ItemKindEnum": "checklists.daily.models.ItemKind",
        "ProblemKindEnum": "checklists.duties.models.ProblemKind",
        "MeetingStatusEnum": "checklists.meetings.models.MeetingStatus",
        "AttendanceStatusEnum": "checklists.meetings.models.AttendanceStatus",
    },
}

# Django's database sessions, read with one prepared statement (opsteam/sessions.py, issue 8).
SESSION_ENGINE = "opsteam.sessions"
SESSION_COOKIE_AGE = env_int("SESSION_COOKIE_AGE", 12 * 3600, minimum=60)  # a shift
# A shared shop PC: closing the browser ends the session too (a shift at most, either way).
SESSION_EXPIRE_AT_BROWSER_CLOSE = env_bool("SESSION_EXPIRE_AT_BROWSER_CLOSE", True)
# "记住这台手机" at login (issue 17): a member's own phone stays signed in this many days, sliding (each day it is
# used pushes the end out again); on by default for phones. Revocable by the member and the director (/account/phones/).
OPSTEAM_REMEMBER_DEVICE_DAYS = env_int("OPSTEAM_REMEMBER_DEVICE_DAYS", 30, minimum=1)

# Content Security Policy (issue 7): scripts only from our own static files, so injected markup cannot run.
# Inline style attributes stay allowed: progress bars set their width from data and htmx adds its indicator
# style; CSS cannot run code, and the markup that could carry it is escaped or sanitised (nh3) anyway.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    },
}

# /healthz/: beat counts as stopped when no periodic task ran for this long (beat saves its runs every ~3 min).
OPSTEAM_HEALTH_BEAT_MAX_AGE_SECONDS = env_int("OPSTEAM_HEALTH_BEAT_MAX_AGE_SECONDS", 600, minimum=60)
# A 503 while the database is away tells browsers and clients to try again after this many seconds.
OPSTEAM_RETRY_AFTER_SECONDS = env_int("OPSTEAM_RETRY_AFTER_SECONDS", 30, minimum=1)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_choice("LOG_LEVEL", "INFO", choices={"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"})},
    "loggers": {"django.db.backends": {"level": "INFO"}},
}
OPSTEAM_PRODUCTION = False  # production.py sets True; the demo refuses to load then
