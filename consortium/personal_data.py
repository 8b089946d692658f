"""Personal data registry: each app says how to export, erase and expire the personal data it holds, and why it
holds it (the record of processing activities, GDPR Art. 30).

``export_user`` / ``export_archive`` (Art. 15 and 20), ``erase_user`` (Art. 17) and ``apply_retention``
(Art. 5(1)(e)) call the handlers. Apps register theirs when they load (``ready()``), so a new kind of personal
data cannot be forgotten silently. See docs/privacy.md.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
import shutil
import tempfile
import uuid
import zipfile
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import IO, Any

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.utils import timezone

logger = logging.getLogger(__name__)

#: What a person's name or email becomes in kept free text (audit trail, staff notes) once they are erased.
REDACTED = "[erased]"
#: Identifiers shorter than this are never searched for in free text (they would match ordinary words).
MIN_IDENTIFIER_LENGTH = 3

#: A retention rule: given the cutoff (now minus the category's period), remove or pseudonymise what is older and
#: return how many records it changed. It must be idempotent: a second run with the same cutoff changes nothing.
RetentionRule = Callable[[dt.datetime], int]


@dataclass(frozen=True)
class PersonalDataHandler:
    label: str
    description: str
    export: Callable[[Any], Any]
    erase: Callable[[Any], None]
    #: ``(archive name, bytes or a Django File/FieldFile)`` pairs: the person's own files for the export archive.
    files: Callable[[Any], Iterable[tuple[str, Any]]] | None = None
    #: Strings by which the person appears in free text elsewhere (names, emails): erasure redacts them there.
    identifiers: Callable[[Any], Iterable[str]] | None = None
    #: Retention category (a key of ``settings.PERSONAL_DATA_RETENTION``) → rule.
    retention_rules: Mapping[str, RetentionRule] = field(default_factory=dict)
    # The record of processing activities (GDPR Art. 30(1)).
    purpose: str = ""
    legal_basis: str = ""
    data_subjects: str = ""
    data_categories: str = ""
    recipients: str = ""
    retention: str = ""


#: The Art. 30 fields every handler must fill in (tests/consortium/test_personal_data.py checks them).
RECORD_FIELDS = ("purpose", "legal_basis", "data_subjects", "data_categories", "recipients", "retention")

_registry: dict[str, PersonalDataHandler] = {}


def register(
    label: str,
    *,
    description: str,
    export: Callable,
    erase: Callable,
    files: Callable | None = None,
    identifiers: Callable | None = None,
    retention_rules: Mapping[str, RetentionRule] | None = None,
    purpose: str = "",
    legal_basis: str = "",
    data_subjects: str = "",
    data_categories: str = "",
    recipients: str = "",
    retention: str = "",
) -> None:
    _registry[label] = PersonalDataHandler(
        label, description, export, erase, files=files, identifiers=identifiers,
        retention_rules=dict(retention_rules or {}), purpose=purpose, legal_basis=legal_basis,
        data_subjects=data_subjects, data_categories=data_categories, recipients=recipients, retention=retention,
    )


def handlers() -> list[PersonalDataHandler]:
    return list(_registry.values())


# --- Export (right of access and portability) --------------------------------------------------------------------


def export_user(user) -> dict[str, Any]:
    return {h.label: h.export(user) for h in _registry.values()}


def summary(user) -> list[tuple[PersonalDataHandler, int]]:
    """Each handler with how many records it holds about ``user`` (the length of its export)."""
    found = []
    for handler in _registry.values():
        data = handler.export(user)
        found.append((handler, len(data) if isinstance(data, list) else int(bool(data))))
    return found


def export_files(user) -> list[tuple[str, Any]]:
    """Every handler's files for ``user`` as ``(archive path, content)``; paths are ``<label>/<name>``, unique."""
    seen: set[str] = set()
    found = []
    for handler in _registry.values():
        for name, content in (handler.files(user) if handler.files else ()):
            found.append((_unique(f"{handler.label}/{name}", seen), content))
    return found


def _unique(path: str, seen: set[str]) -> str:
    stem, dot, ext = path.rpartition(".")
    if not dot or "/" in ext:
        stem, dot, ext = path, "", ""
    candidate, n = path, 1
    while candidate in seen:
        n += 1
        candidate = f"{stem}-{n}{dot}{ext}"
    seen.add(candidate)
    return candidate


def export_archive(user) -> IO[bytes]:
    """A ZIP (a temporary file, rewound) of ``data.json`` (``export_user``), the person's files under ``files/`` and
    a ``README.txt`` that lists them."""
    buffer = tempfile.SpooledTemporaryFile(max_size=16 * 1024 * 1024)  # noqa: SIM115 (returned, open)
    written, missing = [], []
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("data.json", json.dumps(export_user(user), cls=DjangoJSONEncoder, indent=2,
                                                 ensure_ascii=False))
        for path, content in export_files(user):
            target = f"files/{path}"
            if isinstance(content, bytes | str):
                archive.writestr(target, content)
            else:
                try:
                    with content.open("rb") as source, archive.open(target, "w") as sink:
                        shutil.copyfileobj(source, sink)
                except FileNotFoundError:
                    missing.append(target)
                    continue
            written.append(target)
        archive.writestr("README.txt", _readme(written, missing))
    buffer.seek(0)
    return buffer


def _readme(written: list[str], missing: list[str]) -> str:
    lines = [
        f"Your personal data held by {settings.PUBLIC_BASE_URL}, exported on {timezone.now():%Y-%m-%d %H:%M} UTC.",
        "",
        "data.json: everything we hold about you, one section per kind of data:",
        *(f"  {h.label}: {h.description}" for h in _registry.values()),
        "",
        "files/: the files you uploaded and the documents issued to you:",
        *(f"  {p}" for p in written),
    ]
    if not written:
        lines.append("  (none)")
    if missing:
        lines += ["", "Files on record that could not be read (ask the platform administrator):",
                  *(f"  {p}" for p in missing)]
    return "\n".join(lines) + "\n"


# --- Erasure (right to erasure) -------------------------------------------------------------------------------


def identifiers_of(user, *, name_parts: bool = False) -> list[str]:
    """The names and emails by which ``user`` appears in free text, longest first, without duplicates.

    ``name_parts`` adds each part of the names on its own ("Maria", "Kowalska"): for texts about this person only
    (their request, a decision on their application); shared texts (the audit trail, a board's comment on a whole
    sheet) are searched for full names and emails only, so another person's namesake is left alone."""
    found: dict[str, str] = {}
    for handler in _registry.values():
        for value in (handler.identifiers(user) if handler.identifiers else ()):
            value = (value or "").strip()
            values = [value]
            if name_parts and "@" not in value:
                values += re.split(r"[\s,]+", value)
            for item in values:
                if len(item) >= MIN_IDENTIFIER_LENGTH:
                    found.setdefault(item.casefold(), item)
    return sorted(found.values(), key=len, reverse=True)


def redactor(identifiers: Iterable[str]) -> Callable[[str], str]:
    """A function replacing each identifier (case-insensitively, as a whole word: "Ann" leaves "Annex" alone) by
    ``REDACTED`` in a text."""
    terms = sorted({t for t in identifiers if t and len(t) >= MIN_IDENTIFIER_LENGTH}, key=len, reverse=True)
    if not terms:
        return lambda text: text
    pattern = re.compile(r"(?<!\w)(?:" + "|".join(re.escape(t) for t in terms) + r")(?!\w)", re.IGNORECASE)
    return lambda text: pattern.sub(REDACTED, text) if text else text


def _erase_order() -> list[PersonalDataHandler]:
    """Higher apps first (reverse registration order: apps register in dependency order), accounts last, so each
    eraser can still read the lower apps' records of the person (an award's enrolment, an application's name)."""
    ordered = list(reversed(_registry.values()))
    return sorted(ordered, key=lambda h: h.label == "accounts")


@transaction.atomic
def erase_user(user) -> dict[str, Any]:
    """Run every eraser, then redact the person's identifiers in the audit trail and the admin log.
    Returns what was done, for the audit record of the erasure."""
    from . import audit

    identifiers = identifiers_of(user)  # before anything is erased: the erasers remove the names
    for handler in _erase_order():
        handler.erase(user)
    redact = redactor(identifiers)
    events = audit.redact(identifiers, redact)
    admin_entries = _redact_admin_log(identifiers, redact)
    return {"handlers": [h.label for h in _erase_order()], "audit_events_redacted": events,
            "admin_log_entries_redacted": admin_entries}


def _redact_admin_log(identifiers: list[str], redact: Callable[[str], str]) -> int:
    from django.contrib.admin.models import LogEntry
    from django.db.models import Q

    if not identifiers:
        return 0
    query = Q()
    for term in identifiers:
        query |= Q(object_repr__icontains=term) | Q(change_message__icontains=term)
    changed = 0
    for entry in LogEntry.objects.filter(query):
        LogEntry.objects.filter(pk=entry.pk).update(object_repr=redact(entry.object_repr)[:200],
                                                    change_message=redact(entry.change_message))
        changed += 1
    return changed


# --- Retention (storage limitation) ------------------------------------------------------------------------------


def retention_periods() -> dict[str, int | None]:
    """Days per retention category (``settings.PERSONAL_DATA_RETENTION``); None keeps the data."""
    return dict(getattr(settings, "PERSONAL_DATA_RETENTION", {}))


def retention_categories() -> dict[str, str]:
    """Every registered retention category → the label of the handler that owns it."""
    return {category: h.label for h in _registry.values() for category in h.retention_rules}


def apply_retention(*, now: dt.datetime | None = None) -> dict[str, int]:
    """Run every retention rule whose category has a period: each in its own transaction, so one failure stops no
    other. Idempotent. Returns records changed per category."""
    now = now or timezone.now()
    periods = retention_periods()
    done: dict[str, int] = {}
    for handler in _registry.values():
        for category, rule in handler.retention_rules.items():
            if category not in periods:
                logger.warning("Retention category %r (%s) has no period in PERSONAL_DATA_RETENTION: kept.",
                               category, handler.label)
                continue
            days = periods[category]
            if days is None:
                continue
            with transaction.atomic():
                done[category] = rule(now - dt.timedelta(days=days))
            if done[category]:
                logger.info("Retention %s: %d record(s) past %d days removed or pseudonymised.", category,
                            done[category], days)
    return done


# --- The consortium's own handlers: accounts and the audit trail ------------------------------------------------


def _export_account(user) -> dict[str, Any]:
    from allauth.account.models import EmailAddress
    from allauth.mfa.models import Authenticator

    from .models import ExternalId, ExternalIdKind

    profile = getattr(user, "staff_profile", None)
    return {
        "email": user.email,
        "full_name": user.full_name,
        "european_student_identifier": user.esi,
        "external_ids": [
            {"institution": e.institution.short_name, "value": e.value}
            for e in ExternalId.objects.filter(kind=ExternalIdKind.LEARNER, object_id=user.pk).select_related(
                "institution")
        ],
        "date_joined": user.date_joined.isoformat(),
        "last_login": user.last_login.isoformat() if user.last_login else None,
        "email_addresses": list(EmailAddress.objects.filter(user=user).values("email", "verified", "primary")),
        "two_factor_methods": list(Authenticator.objects.filter(user=user).values_list("type", flat=True)),
        "staff_profile": (
            {"institution": profile.institution.short_name, "job_title": profile.job_title} if profile else None
        ),
        "roles": [{"role": r.role, "scope": r.scope_key} for r in user.role_assignments.all()],
        "erasure_requests": [
            {"requested_at": r.requested_at.isoformat(), "status": r.status, "reason": r.reason, "note": r.note}
            for r in user.erasure_requests.all()
        ],
    }


def _account_identifiers(user) -> list[str]:
    from allauth.account.models import EmailAddress

    return [user.email, user.full_name, user.esi,
            *EmailAddress.objects.filter(user=user).values_list("email", flat=True)]


def _erase_account(user) -> None:
    from allauth.account.models import EmailAddress
    from allauth.mfa.models import Authenticator

    from .models import ExternalId, ExternalIdKind

    EmailAddress.objects.filter(user=user).delete()
    Authenticator.objects.filter(user=user).delete()
    ExternalId.objects.filter(kind=ExternalIdKind.LEARNER, object_id=user.pk).delete()
    user.email = f"erased-{uuid.uuid4().hex}@invalid"
    user.full_name = ""
    user.esi = ""
    user.is_active = False
    user.set_unusable_password()
    user.save()


def _expire_unverified_accounts(cutoff: dt.datetime) -> int:
    """Sign-ups whose email was never verified (so they never signed in) and that hold nothing else."""
    from allauth.account.models import EmailAddress
    from django.db.models import ProtectedError, RestrictedError

    from .models import AuditEvent, User

    candidates = (
        User.objects.filter(date_joined__lt=cutoff, last_login__isnull=True, is_staff=False, is_superuser=False,
                            staff_profile__isnull=True, role_assignments__isnull=True)
        .exclude(id__in=EmailAddress.objects.filter(verified=True).values("user_id"))
        .exclude(id__in=AuditEvent.objects.filter(actor__isnull=False).values("actor_id"))  # the trail names them
        .exclude(email__endswith="@invalid")
    )
    deleted = 0
    for user in candidates:
        try:
            with transaction.atomic():
                user.delete()
        except (ProtectedError, RestrictedError):
            continue  # something refers to the account (an application): it is not a bare sign-up
        deleted += 1
    return deleted


def _expire_sessions(cutoff: dt.datetime) -> int:
    from django.contrib.sessions.models import Session

    count, _ = Session.objects.filter(expire_date__lt=cutoff).delete()
    return count


def _export_audit(user) -> list[dict[str, Any]]:
    from .models import AuditEvent

    return [
        {"at": e.at.isoformat(), "action": e.action, "object_type": e.object_type, "object": e.object_repr,
         "via": e.via}
        for e in AuditEvent.objects.filter(actor=user).order_by("at")
    ]


def _erase_audit(user) -> None:
    """Events stay (they account for decisions); ``erase_user`` redacts the person's names and emails in them once
    every eraser has run, with the identifiers collected before."""


def _expire_audit_events(cutoff: dt.datetime) -> int:
    from . import audit

    return audit.purge_before(cutoff)


def _expire_feed_events(cutoff: dt.datetime) -> int:
    """Events of the partners' feed older than the cutoff, except those a webhook delivery still has to send (their
    audience goes with them; finished deliveries keep their body and lose the link)."""
    from .models import DeliveryStatus, FeedEvent, WebhookDelivery

    pending = WebhookDelivery.objects.filter(status=DeliveryStatus.PENDING, event__isnull=False).values("event")
    _deleted, by_model = FeedEvent.objects.filter(occurred_at__lt=cutoff).exclude(seq__in=pending).delete()
    return by_model.get(FeedEvent._meta.label, 0)


def _expire_webhook_deliveries(cutoff: dt.datetime) -> int:
    """Finished webhook deliveries (succeeded, given up, cancelled) that finished before the cutoff, with their
    attempt log; pending ones stay whatever their age."""
    from django.db.models import Q

    from .models import DeliveryStatus, WebhookDelivery

    finished = WebhookDelivery.objects.exclude(status=DeliveryStatus.PENDING)
    old = finished.filter(Q(completed_at__lt=cutoff) | Q(completed_at__isnull=True, created_at__lt=cutoff))
    _deleted, by_model = old.delete()
    return by_model.get(WebhookDelivery._meta.label, 0)


def _export_nothing(user) -> list:
    """The feed and the delivery log name records by id, never a person: nothing to hand over per person."""
    return []


def _erase_nothing(user) -> None:
    """Nothing to erase per person: the events carry the ids of records that erasure pseudonymises."""


register(
    "accounts",
    description="Login email, name, European Student Identifier, email addresses, two-factor methods, staff profile "
                "and roles, and the ids partner institutions keep for you.",
    export=_export_account,
    erase=_erase_account,
    identifiers=_account_identifiers,
    retention_rules={"unverified_accounts": _expire_unverified_accounts, "sessions": _expire_sessions},
    purpose="Sign-in, and knowing who acts on the platform (learners, staff of the partner institutions, "
            "platform administrators).",
    legal_basis="Art. 6(1)(b) (the account is needed to apply, study and receive credentials); for staff, "
                "Art. 6(1)(e)/(f) (the institutions' tasks in running joint programmes).",
    data_subjects="Learners and applicants; staff of partner institutions; platform administrators.",
    data_categories="Email addresses (and whether verified), full name, European Student Identifier, password hash, "
                    "two-factor secrets, sign-in times, sessions, staff profile (institution, job title), role "
                    "assignments, partner institutions' own ids for the learner (their student numbers).",
    recipients="Platform administrators; an institution's administrators for its own staff. Emails are sent "
               "through the configured mail provider. The European Student Identifier: the institutions of the "
               "programmes the learner applies to, and the learner's digital credentials (as the subject's id). A "
               "partner's own ids for the learner: that partner only.",
    retention="While the account is in use; unverified sign-ups and expired sessions are deleted after the "
              "periods below. Erasure on request pseudonymises the account (the row stays so references hold).",
)

register(
    "audit",
    description="The audit trail of the decisions and changes you made or that concern you.",
    export=_export_audit,
    erase=_erase_audit,
    retention_rules={"audit_events": _expire_audit_events},
    purpose="Accountability: who decided or changed what, when and through which interface (admissions, grades, "
            "awards, agreements, tokens, erasure requests).",
    legal_basis="Art. 6(1)(c) and (e) (the institutions' duty to account for academic and financial decisions); "
                "Art. 5(2) (accountability).",
    data_subjects="Everyone who acts on the platform, and the learners the decisions concern.",
    data_categories="Actor (account, email at the time), action, the object concerned (which can name a "
                    "learner), the changed values, time, interface.",
    recipients="Institution administrators (their institution's events), consortium administrators (their "
               "consortium's events), platform administrators.",
    retention="Append-only for the period below, then deleted. Erasure of a person replaces their names and emails "
              "in the kept events.",
)

register(
    "integration",
    description="The partners' events feed and the log of webhook deliveries name your application, enrolment, "
                "results and award by their ids (no names, emails or grades).",
    export=_export_nothing,
    erase=_erase_nothing,
    retention_rules={"feed_events": _expire_feed_events, "webhook_deliveries": _expire_webhook_deliveries},
    purpose="Telling the partner institutions' systems which records changed (the events feed, webhooks), and "
            "diagnosing deliveries to them.",
    legal_basis="Art. 6(1)(e) (the institutions' tasks in running joint programmes: keeping their student "
                "information systems in step).",
    data_subjects="Applicants and learners of joint programmes (through the ids of their records).",
    data_categories="Event type, the id of the record concerned, its status, time; the body sent to each webhook "
                    "(the same fields) and each attempt's answer.",
    recipients="The partner institutions of the programme (their systems, through the API and their webhooks).",
    retention="Events and finished deliveries are deleted after the periods below; a partner system that falls "
              "further behind re-reads the lists with updated_since.",
)
