"""Settings, from the environment (12-factor).

With nothing set the app runs on SQLite in ``var/`` with Celery tasks executed eagerly in-process.
``DATABASE_URL`` switches to PostgreSQL, ``REDIS_URL`` switches Celery's broker/result backend and
Django's cache to Redis. ``DEBUG`` is off unless asked for; with it off ``SECRET_KEY`` is required.
"""

import hashlib
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured
from django.core.management.utils import get_random_secret_key
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(environ.Env().str("VAR_DIR", default=str(BASE_DIR / "var")))

env = environ.Env()

DEBUG = env.bool("DJANGO_DEBUG", default=False)


def _secret_key() -> str:
    key = env.str("DJANGO_SECRET_KEY", default="")
    if key:
        return key
    if not DEBUG:
        raise ImproperlyConfigured("DJANGO_SECRET_KEY must be set when DJANGO_DEBUG is off.")
    # Development only: a generated secret kept in var/ so sessions survive restarts.
    path = VAR_DIR / "dev-secret-key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(get_random_secret_key())
    return path.read_text().strip()


SECRET_KEY = _secret_key()
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

# The absolute URL of this deployment, used wherever no request exists (tasks, QR codes, emails, did:web).
PUBLIC_BASE_URL = env.str("PUBLIC_BASE_URL", default="http://127.0.0.1:8000").rstrip("/")

# Encrypts the issuers' private signing keys at rest (Fernet keys, comma-separated; the first encrypts, all
# decrypt, so this key can be rotated). Never in the repo. Without it, DEBUG (and the tests) derive a dev key
# from SECRET_KEY; production refuses to create or use a signing key. See docs/credentials.md.
CREDENTIAL_KEY_ENCRYPTION_KEY = env.list("CREDENTIAL_KEY_ENCRYPTION_KEY", default=[])
CREDENTIAL_KEY_DERIVE_FROM_SECRET = DEBUG

INSTALLED_APPS = [
    "consortium.admin_site.SuperuserAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_countries",
    "csp",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "consortium",
    "programmes",
    "admissions",
    "assessment",
    "certification",
    "finance",
    "quality",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "consortium.input_guard.NullCharacterGuard",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "consortium.mfa.StaffMfaMiddleware",
    "consortium.audit.AuditViaMiddleware",
    "quality.middleware.PageVisitMiddleware",  # counts visits of the public programme pages (no personal data)
    "consortium.unavailable.DatabaseUnavailableMiddleware",  # last: the first to see a view's exception
]

ROOT_URLCONF = "consortium.urls"
WSGI_APPLICATION = "consortium.wsgi.application"

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
                "consortium.context_processors.navigation",
            ],
        },
    },
]

# --- Database ---------------------------------------------------------------------------------------
DATABASES = {
    "default": env.db_url("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'db.sqlite3'}"),
}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
DATABASES["default"]["CONN_MAX_AGE"] = env.int("DB_CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
FORMS_URLFIELD_ASSUME_HTTPS = True  # Django 6 behaviour now: URLs typed without a scheme are https

# --- Redis: Celery broker/results and cache ----------------------------------------------------------
REDIS_URL = env.str("REDIS_URL", default="")

if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": env.str("CACHE_KEY_PREFIX", default="jointcred"),
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_RESULT_BACKEND = REDIS_URL or "cache+memory://"
CELERY_TASK_ALWAYS_EAGER = not REDIS_URL
# Eager mode (no broker): a failing task is recorded by the task itself (e.g. a document marked failed with its
# error and a Retry button) instead of turning the page that enqueued it into a 500. Tests propagate.
CELERY_TASK_EAGER_PROPAGATES = False
CELERY_TASK_DEFAULT_QUEUE = env.str("CELERY_QUEUE", default="jointcred")
CELERY_TASK_ACKS_LATE = False  # opted into per idempotent task
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=300)
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", default=240)
# Redis redelivers a late-acked message whose worker vanished once it has been unacknowledged this long: longer
# than the longest task, so a running task is not delivered twice. Workers look for such messages every
# CELERY_UNACKED_RESTORE_INTERVAL seconds. Socket timeouts, so a vanished broker fails a publish instead of hanging.
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", default=CELERY_TASK_TIME_LIMIT * 4),
    "unacked_restore_interval": env.int("CELERY_UNACKED_RESTORE_INTERVAL", default=60),
    "unacked_restore_throttle": 1,
    "socket_connect_timeout": 3,
    "socket_timeout": 10,
}
CELERY_REDIS_SOCKET_CONNECT_TIMEOUT = 3  # the result backend
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# With the broker down a publish gives up after three quick attempts (each connect at most socket_connect_timeout);
# certification.tasks.RenderTask then leaves the document queued for the sweep and the request answers.
CELERY_TASK_PUBLISH_RETRY_POLICY = {"max_retries": 2, "interval_start": 0, "interval_step": 0.2, "interval_max": 0.5}
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# A pool process is replaced after this many tasks (WeasyPrint's caches and fragmentation grow in long-lived ones).
CELERY_WORKER_MAX_TASKS_PER_CHILD = env.int("CELERY_WORKER_MAX_TASKS_PER_CHILD", default=500)
# A document still queued or rendering this long after its last change lost its message (broker outage, worker
# killed past the time limit): the sweep sends it again.
DOCUMENT_SWEEP_AFTER = env.int("DOCUMENT_SWEEP_AFTER", default=2 * CELERY_TASK_TIME_LIMIT)
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = "UTC"
CELERY_BEAT_SCHEDULE: dict = {
    "lapse-overdue-offers": {"task": "admissions.tasks.lapse_overdue_offers", "schedule": 15 * 60},
    # Not run late: a sweep that waited in the queue past the next one is dropped (expires).
    "sweep-documents": {"task": "certification.tasks.documents_sweep", "schedule": 5 * 60,
                        "options": {"expires": 4 * 60}},
    "apply-retention": {"task": "consortium.tasks.apply_retention", "schedule": 24 * 60 * 60},
    # Webhook retries and first attempts whose message was lost (consortium/webhooks.py).
    "dispatch-webhooks": {"task": "consortium.tasks.webhooks_dispatch", "schedule": 60, "options": {"expires": 50}},
    "purge-idempotency-keys": {"task": "consortium.tasks.idempotency_keys_purge", "schedule": 60 * 60},
    # Learner feedback (quality/feedback.py): open the surveys of ended editions, remind, close.
    "feedback-open-surveys": {"task": "quality.tasks.feedback_surveys_open", "schedule": 24 * 60 * 60},
    "feedback-send-reminders": {"task": "quality.tasks.feedback_reminders_send", "schedule": 24 * 60 * 60},
    "feedback-close-surveys": {"task": "quality.tasks.feedback_surveys_close", "schedule": 60 * 60,
                               "options": {"expires": 50 * 60}},
}
# Personal data: retention periods (days) per category, applied daily by consortium.tasks.apply_retention. Each
# category belongs to one app's personal-data handler (docs/privacy.md, "Retention"); None keeps the data. Override
# some or all with PERSONAL_DATA_RETENTION='{"audit_events": 2555, "closed_applications": null}'.
PERSONAL_DATA_RETENTION: dict[str, int | None] = {
    "closed_application_documents": 180,  # documents of rejected, withdrawn, lapsed or declined applications
    "closed_applications": 730,  # those applications (never enrolled) are then pseudonymised
    "unverified_accounts": 30,  # sign-ups whose email was never verified and that hold nothing else
    "sessions": 0,  # days after a session expired
    "audit_events": 3650,  # the audit trail
    "feedback_invitations": 365,  # who was asked to give feedback: removed this long after the survey closed
    "feed_events": 365,  # the partners' events feed (ids and statuses, no names)
    "webhook_deliveries": 90,  # finished webhook deliveries and their attempt log
    **env.json("PERSONAL_DATA_RETENTION", default={}),
}

# --- Programmes ----------------------------------------------------------------------------------------
# National caps on micro-credential volume, applied by the issuing institution's country: ECTS must be below.
NATIONAL_ECTS_CAPS = {"ES": 15}

# --- Quality: feedback surveys (quality/feedback.py) ---------------------------------------------------
# A survey closes this many days after it opens; learners who have not answered get at most FEEDBACK_REMINDERS_MAX
# reminders, FEEDBACK_REMINDER_INTERVAL_DAYS apart. A result (question, course, partner) is shown only from
# FEEDBACK_MIN_RESPONSES respondents on. Editions that ended more than FEEDBACK_OPEN_WITHIN_DAYS ago get no survey.
FEEDBACK_OPEN_DAYS = env.int("FEEDBACK_OPEN_DAYS", default=21)
FEEDBACK_REMINDERS_MAX = env.int("FEEDBACK_REMINDERS_MAX", default=2)
FEEDBACK_REMINDER_INTERVAL_DAYS = env.int("FEEDBACK_REMINDER_INTERVAL_DAYS", default=7)
FEEDBACK_MIN_RESPONSES = env.int("FEEDBACK_MIN_RESPONSES", default=3)
FEEDBACK_OPEN_WITHIN_DAYS = env.int("FEEDBACK_OPEN_WITHIN_DAYS", default=60)

# Demo data of the apps above consortium, loaded by `manage.py seed_demo` after the consortium's own.
# The public programme page shows each edition's fee table from this provider (finance), which it never imports.
PROGRAMME_FEE_TABLES = "finance.public.fee_tables"

DEMO_SEEDERS = ["programmes.demo.seed", "admissions.demo.seed", "assessment.demo.seed", "certification.demo.seed",
                "finance.demo.seed", "quality.demo.seed"]

# --- Domain events: which subscribers run (after commit) when an app publishes an event ---------------
# Lower apps publish named events; higher apps subscribe here. See docs/architecture.md.
# Payment providers (finance/payments.py): name → class. Only the fake provider ships, for the demo and the tests:
# it is on only in DEBUG or with PAYMENT_FAKE_PROVIDER=true (it lets a learner "pay" without money moving). Its
# webhook secret comes from the environment, or is derived from SECRET_KEY.
PAYMENT_PROVIDERS = (
    {"fake": "finance.payments.FakeProvider"} if env.bool("PAYMENT_FAKE_PROVIDER", default=DEBUG) else {}
)
PAYMENT_FAKE_SECRET = env.str("PAYMENT_FAKE_SECRET", default="") or hashlib.sha256(
    f"fake-payment-provider:{SECRET_KEY}".encode()).hexdigest()

DOMAIN_EVENT_SUBSCRIBERS: dict[str, list[str]] = {
    "consortium.agreement_in_force": [],
    "admissions.offer_accepted": ["finance.subscribers.on_offer_accepted"],
    "admissions.enrolled": [],
    "admissions.withdrawn": ["finance.subscribers.on_withdrawn"],
    "certification.award_issued": [],
    "certification.credential_revoked": [],
}

# --- Authentication: django-allauth, email login, mandatory verification, TOTP -----------------------
AUTH_USER_MODEL = "consortium.User"
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_EMAIL_VERIFICATION = "mandatory"
# A learner who signs up (e.g. from a programme's Apply button) and follows the confirmation link in the same
# browser is signed in and sent on to where they were going, instead of having to sign in again.
ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION = True
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = False
ACCOUNT_RATE_LIMITS = {"login_failed": "10/m/ip,5/5m/key"}
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
MFA_TOTP_ISSUER = env.str("MFA_TOTP_ISSUER", default="JointCred")
# Staff (anyone with an institution or a role) must set up TOTP before working (consortium/mfa.py). On in
# production; off in the demo so its printed logins work at once.
MFA_REQUIRED_FOR_STAFF = env.bool("MFA_REQUIRED_FOR_STAFF", default=not DEBUG)
LOGIN_REDIRECT_URL = "dashboard"
LOGIN_URL = "account_login"

EMAIL_CONFIG = env.email_url("EMAIL_URL", default="consolemail://")
vars().update(EMAIL_CONFIG)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="JointCred <no-reply@jointcred.local>")

# --- Internationalisation -----------------------------------------------------------------------------
LANGUAGE_CODE = "en"
LANGUAGES = [
    ("en", _("English")),
    ("fr", _("French")),
    ("de", _("German")),
    ("es", _("Spanish")),
    ("nl", _("Dutch")),
    ("it", _("Italian")),
]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# --- Files: static, public media, private storage ------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = Path(env.str("STATIC_ROOT", default=str(VAR_DIR / "staticfiles")))
STATICFILES_DIRS = [BASE_DIR / "static"]
WHITENOISE_USE_FINDERS = DEBUG  # development serves straight from static/; production from collectstatic
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(env.str("MEDIA_ROOT", default=str(VAR_DIR / "media")))
# Private files (signature images, signed agreements, applicants' documents, issued PDFs) are stored
# outside any URL and only served through views that check the policy.
PRIVATE_MEDIA_ROOT = Path(env.str("PRIVATE_MEDIA_ROOT", default=str(VAR_DIR / "private")))
# PAdES seals of the issued PDFs (certification/vc/seal.py). Production: each issuing institution's qualified seal,
# SEAL_FILES='{"KU Leuven": ["/run/secrets/kul-seal.key", "/run/secrets/kul-seal.pem"]}' (short name → PEM key and
# certificate). Otherwise self-signed demo seals under SEAL_DIR, made by `manage.py seal_certificate`, or on first use
# when SEAL_DEMO_AUTO is on (the default in DEBUG). A document whose issuer has no seal fails with that message.
SEAL_FILES = env.json("SEAL_FILES", default={})
SEAL_DIR = Path(env.str("SEAL_DIR", default=str(PRIVATE_MEDIA_ROOT / "seals")))
SEAL_DEMO_AUTO = env.bool("SEAL_DEMO_AUTO", default=DEBUG)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "private": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": PRIVATE_MEDIA_ROOT, "base_url": None},
    },
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
UPLOAD_MAX_BYTES = env.int("UPLOAD_MAX_BYTES", default=10 * 1024 * 1024)
FILE_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024

# --- Security -------------------------------------------------------------------------------------------
SESSION_COOKIE_AGE = env.int("SESSION_COOKIE_AGE", default=60 * 60 * 8)
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
_secure_default = not DEBUG
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=_secure_default)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=_secure_default)
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=_secure_default)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=_secure_default)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=_secure_default)
if env.bool("BEHIND_TLS_PROXY", default=False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SILENCED_SYSTEM_CHECKS = env.list("SILENCED_SYSTEM_CHECKS", default=[])

CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
    }
}

# --- REST API ---------------------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "consortium.rest.authentication.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["consortium.rest.permissions.PolicyPermission"],
    "DEFAULT_PAGINATION_CLASS": "consortium.rest.pagination.Pagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "rest_framework.filters.SearchFilter",
        "rest_framework.filters.OrderingFilter",
    ],
    "DEFAULT_THROTTLE_CLASSES": ["consortium.rest.throttling.PerTokenRateThrottle"],
    "DEFAULT_THROTTLE_RATES": {"api": env.str("API_RATE", default="600/minute")},
    "DEFAULT_SCHEMA_CLASS": "consortium.rest.schema.AutoSchema",  # documents the common errors of every operation
    "EXCEPTION_HANDLER": "consortium.rest.errors.exception_handler",
    "DEFAULT_VERSIONING_CLASS": None,
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "JointCred API",
    "DESCRIPTION": "Partner-system API of the joint micro-credential platform. "
    "Authenticate with `Authorization: Token <key>`; tokens are scoped to one institution.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "InstitutionKindEnum": "consortium.models.InstitutionKind",
        "AgreementKindEnum": "consortium.models.AgreementKind",
        "MembershipRoleEnum": "consortium.models.MembershipRole",
        "LanguageEnum": LANGUAGES,
        "AgreementStatusEnum": "consortium.models.AgreementStatus",
        "ProgrammeStatusEnum": "programmes.models.ProgrammeStatus",
        "CurriculumStatusEnum": "programmes.models.CurriculumStatus",
        "EditionStatusEnum": "programmes.models.EditionStatus",
        "ApplicationStatusEnum": "admissions.models.ApplicationStatus",
        "RegistrationStatusEnum": "admissions.models.RegistrationStatus",
        "ExemptionStatusEnum": "admissions.models.ExemptionStatus",
        "SheetStatusEnum": "assessment.models.SheetStatus",
        "CredentialStatusEnum": "certification.models.CredentialStatus",
        "DocumentStatusEnum": "certification.models.DocumentStatus",
        "CertificationAwardKindEnum": "certification.models.AwardKind",
        "DocumentKindEnum": "certification.models.DocumentKind",
        "ExternalIdKindEnum": "consortium.models.ExternalIdKind",
    },
}
API_TOKEN_DEFAULT_DAYS = env.int("API_TOKEN_DEFAULT_DAYS", default=365)
# Webhooks (consortium/webhooks.py, docs/integration.md "Webhooks"). HTTPS to public addresses only; with
# WEBHOOK_ALLOW_LOOPBACK (on in DEBUG and the tests) also http(s) to 127.0.0.1/localhost, never private networks.
WEBHOOK_ALLOW_LOOPBACK = env.bool("WEBHOOK_ALLOW_LOOPBACK", default=DEBUG)
WEBHOOK_CONNECT_TIMEOUT = env.float("WEBHOOK_CONNECT_TIMEOUT", default=3)
WEBHOOK_READ_TIMEOUT = env.float("WEBHOOK_READ_TIMEOUT", default=10)
# Retried with backoff until this many seconds after the first attempt.
WEBHOOK_RETRY_FOR = env.int("WEBHOOK_RETRY_FOR", default=24 * 60 * 60)
# An endpoint is disabled when every attempt failed for this many seconds, or this many attempts in a row failed.
WEBHOOK_DISABLE_AFTER = env.int("WEBHOOK_DISABLE_AFTER", default=24 * 60 * 60)
WEBHOOK_DISABLE_AFTER_FAILURES = env.int("WEBHOOK_DISABLE_AFTER_FAILURES", default=100)
# After a secret rotation, deliveries are signed with the previous secret too for this many seconds (48 h).
WEBHOOK_SECRET_OVERLAP = env.int("WEBHOOK_SECRET_OVERLAP", default=48 * 60 * 60)
# Idempotent API writes (consortium/rest/idempotency.py, docs/integration.md "Idempotent writes"): a key and its
# first answer are kept this many seconds, then purged (beat: purge-idempotency-keys). A key whose request is still
# "in progress" after IDEMPOTENCY_LOCK_TIMEOUT seconds and whose transaction is gone (a crashed worker) is taken over
# by the next retry.
IDEMPOTENCY_KEY_TTL = env.int("IDEMPOTENCY_KEY_TTL", default=24 * 60 * 60)
IDEMPOTENCY_LOCK_TIMEOUT = env.int("IDEMPOTENCY_LOCK_TIMEOUT", default=60)

# --- Logging ----------------------------------------------------------------------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        "django.db.backends": {"level": "INFO"},
        # WeasyPrint reports every rendering step at INFO: noise in worker logs, and time spent per document.
        "weasyprint": {"level": "WARNING"},
        "weasyprint.progress": {"level": "WARNING"},
        "fontTools": {"level": "WARNING"},
    },
}
