"""Bulk exchange (partner integration): the applicants a partner institution collected, imported into an edition.

A partner system (API token with ``applications:write``) or a student administrator of an institution taking part
in the programme (policy ``application.import``) sends a CSV file or JSON rows with the application's fields
(``services.APPLICANT_FIELDS``). ``applications_import`` checks every row with the rules a learner's own
application goes through (the model's field validation, as ``services.application_save``; the fields required to
submit; the minimum age) and the edition's window (``accepts_applications``, as ``services.application_submit``),
then gives each row one outcome:

* ``create``: the edition has no application of this email. Saved: the person's account is found by email, or
  created (unverified, without a password: the person sets one with "forgot password" and verifies the address on
  the first sign-in; no invitation is sent), the application is created and submitted on the applicant's behalf
  (audit ``application.imported`` and ``application.submitted``; the applicant gets the usual "we received your
  application" message, emailed after commit like every status change) and checked for duplicates.
* ``update``: the edition has this email's application, imported by the same institution and still submitted
  (the review has not started): the row's answers replace it, a correction before the review (audit
  ``application.import_updated`` with the names of the fields).
* ``duplicate``: the edition has this email's application in any other case (the applicant's own, or another
  partner's, or one under review or decided): it is left as it is. Duplicates are reported and never block.
* ``error``: field messages.

A dry run (the default) saves nothing. A commit is all or nothing: when any row is an ``error`` nothing is saved;
otherwise every create and update is saved in one transaction, the edition row locked first (as every admission
does), and one audit event ``admissions.applicants_imported`` records the counts. Documents are not imported: the
reviewing institution asks for what is missing with "request information".

The applications remember where they came from: ``utm_medium`` "import" and ``utm_source`` the importing
institution's short name (the recruitment funnel counts them per partner; an update needs that provenance).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from allauth.account.models import EmailAddress
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext as _
from django_countries import countries

from consortium import csv_import
from consortium.api import (
    DomainError,
    ExternalIdKind,
    Institution,
    TransitionError,
    User,
    audit,
    external_id_set,
    identifiers,
    policy,
)
from programmes.api import Edition, accepts_applications

from .models import Application, ApplicationStatus, ParticipantProfile, Route, Track
from .policy_rules import importing_institution_ids
from .services import (
    APPLICANT_FIELDS,
    REQUIRED_TO_SUBMIT,
    _flag_duplicates,
    _framework,
    _lock_edition,
    _locked,
    _move,
    _record,
)

S = ApplicationStatus

#: The columns that identify the person besides the email: the European Student Identifier and the importing
#: institution's own id for the learner (``consortium.identifiers``).
IDENTITY_COLUMNS = ("esi", "external_id")
#: The columns an import reads: the application's fields and the identity columns. Other columns are ignored (and
#: listed in the answer).
IMPORT_COLUMNS = (*APPLICANT_FIELDS, *IDENTITY_COLUMNS)
#: Needed in every file (the other fields may be empty in a row, or missing from the file).
REQUIRED_COLUMNS = ("given_names", "family_names", "email")
#: Other names partners' files give the columns.
COLUMN_ALIASES = {
    "first_name": "given_names",
    "first_names": "given_names",
    "given_name": "given_names",
    "last_name": "family_names",
    "family_name": "family_names",
    "surname": "family_names",
    "e-mail": "email",
    "birth_date": "date_of_birth",
    "dob": "date_of_birth",
    "profile": "participant_profile",
    "eqf_level": "highest_eqf_level",
}
#: The most applicants one file or request may carry.
MAX_ROWS = 1000
#: ``utm_medium`` of the applications an import created.
IMPORT_MEDIUM = "import"
MINIMUM_AGE_YEARS = 15

CREATE, UPDATE, DUPLICATE, ERROR = "create", "update", "duplicate", "error"
OUTCOMES = (CREATE, UPDATE, DUPLICATE, ERROR)
_CHOICES = {"participant_profile": ParticipantProfile, "track": Track, "route": Route}
_DEFAULTS = {"track": Track.ASSESSED, "route": Route.STANDARD}
_NULLABLE = ("date_of_birth", "highest_eqf_level", "experience_years")


# --- Reading ---------------------------------------------------------------------------------------------


@dataclass
class ApplicantRow:
    """One applicant as sent: ``row`` is the line in the CSV file (the header is line 1) or the position in the JSON
    list (from 1); ``values`` the cells of the known columns, as text."""

    row: int
    values: dict[str, str]


def read_csv(data: bytes) -> tuple[list[ApplicantRow], list[str]]:
    """The applicants of a CSV file and the columns it has that are ignored (``consortium.csv_import`` reads it)."""
    table = csv_import.read_table(data, aliases=COLUMN_ALIASES, max_rows=MAX_ROWS)
    missing = [c for c in REQUIRED_COLUMNS if c not in table.columns]
    if missing:
        raise ValidationError(
            _(
                "The first row must name the columns: given_names, family_names and email at least, and any of "
                "%(optional)s (other columns are ignored). Found: %(found)s."
            )
            % {"optional": ", ".join(c for c in IMPORT_COLUMNS if c not in REQUIRED_COLUMNS), "found": table.found()}
        )
    columns = [c for c in IMPORT_COLUMNS if c in table.columns]
    rows = [ApplicantRow(line, {c: table.cell(record, c) for c in columns}) for line, record in table.records]
    if not rows:
        raise ValidationError(_("The file has a header row but no applicants."))
    return rows, [name for name in table.columns if name and name not in IMPORT_COLUMNS]


def read_items(items: Sequence[Mapping[str, Any]]) -> list[ApplicantRow]:
    """The applicants of a JSON list (objects keyed by the column names; missing keys and nulls are empty)."""
    if len(items) > MAX_ROWS:
        raise ValidationError(_("At most %(n)s rows per file.") % {"n": MAX_ROWS})
    return [
        ApplicantRow(number, {c: csv_import.unquote(str(item[c]).strip()) for c in IMPORT_COLUMNS
                              if item.get(c) is not None})
        for number, item in enumerate(items, start=1)
    ]


# --- Checking and saving ------------------------------------------------------------------------------------


@dataclass
class ApplicantOutcome:
    row: int
    email: str
    outcome: str = CREATE
    errors: dict[str, list[str]] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    message: str = ""
    application: Application | None = None  # the existing one (update, duplicate), or the one created
    values: dict[str, Any] = field(default_factory=dict)  # the application's checked values (create, update)
    account: User | None = None  # the existing account of the email (create)
    esi: str = ""
    external_id: str = ""

    def refuse(self, name: str, message: str) -> None:
        self.errors.setdefault(name, []).append(message)
        self.outcome = ERROR


@dataclass
class ApplicantImport:
    edition: Edition
    dry_run: bool
    committed: bool
    rows: list[ApplicantOutcome]
    ignored_columns: list[str] = field(default_factory=list)

    @property
    def counts(self) -> dict[str, int]:
        return csv_import.outcome_counts(self.rows, OUTCOMES)

    @property
    def has_errors(self) -> bool:
        return any(r.outcome == ERROR for r in self.rows)


def _normalised(values: Mapping[str, str]) -> dict[str, Any]:
    """The row's text as model values: choice labels and country names accepted, empty → the model's empty."""
    clean: dict[str, Any] = {}
    for name in APPLICANT_FIELDS:
        value = (values.get(name) or "").strip()
        if name in _CHOICES and value:
            for choice, label in _CHOICES[name].choices:
                if value.lower() in (choice, str(label).lower()):
                    value = choice
                    break
        elif name == "nationality" and value:
            value = countries.alpha2(value) or countries.by_name(value) or value.upper()
        elif name == "email":
            value = User.objects.normalize_email(value)
        if not value:
            value = None if name in _NULLABLE else _DEFAULTS.get(name, "")
        clean[name] = value
    return clean


def _field_errors(edition: Edition, values: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, list[str]]]:
    """The model's verdict on one row (as ``application_save``), plus what a submission needs."""
    application = Application(edition=edition, **values)
    errors: dict[str, list[str]] = {}
    try:
        application.full_clean(exclude=["edition", "applicant"], validate_unique=False, validate_constraints=False)
    except ValidationError as exc:
        errors = {name: list(messages) for name, messages in exc.message_dict.items()}
    for name in REQUIRED_TO_SUBMIT:
        if name not in errors and getattr(application, name) in (None, ""):
            errors[name] = [_("Required to submit an application.")]
    born = application.date_of_birth
    youngest = timezone.localdate() - dt.timedelta(days=365 * MINIMUM_AGE_YEARS)
    if "date_of_birth" not in errors and isinstance(born, dt.date) and born > youngest:
        errors["date_of_birth"] = [_("Applicants are at least %(n)s years old.") % {"n": MINIMUM_AGE_YEARS}]
    checked = {name: _current(application, name) for name in APPLICANT_FIELDS}
    return checked, errors


def _identity_errors(outcome: ApplicantOutcome, values: Mapping[str, str]) -> None:
    outcome.esi = identifiers.normalise_esi(values.get("esi") or "")
    outcome.external_id = (values.get("external_id") or "").strip()
    for name, value, validate in (("esi", outcome.esi, identifiers.validate_esi),
                                  ("external_id", outcome.external_id, identifiers.validate_external_id)):
        if value:
            try:
                validate(value)
            except ValidationError as exc:
                for message in exc.messages:
                    outcome.refuse(name, message)


def _current(application: Application, name: str) -> Any:
    value = getattr(application, name)
    return (value.code or "") if name == "nationality" else value


def _existing(edition: Edition, emails: set[str]) -> dict[str, Application]:
    found: dict[str, Application] = {}
    applications = (Application.objects.filter(edition=edition).annotate(lower_email=Lower("email"))
                    .filter(Q(lower_email__in=emails) | Q(applicant__email__in=emails)).select_related("applicant"))
    for application in applications:
        for email in (application.lower_email, application.applicant.email.lower()):
            if email in emails:
                found.setdefault(email, application)
    return found


def _people(edition: Edition) -> set[tuple[str, str, dt.date | None]]:
    """(given names, family names, date of birth) of the edition's submitted applications, for the duplicate hint."""
    rows = Application.objects.filter(edition=edition).exclude(status=S.DRAFT).values_list(
        "given_names", "family_names", "date_of_birth")
    return {(g.casefold(), f.casefold(), d) for g, f, d in rows}


def _imported_by(application: Application, institution: Institution | None) -> bool:
    return (institution is not None and application.utm_medium == IMPORT_MEDIUM
            and application.utm_source == institution.short_name)


def _check_identity(actor, edition: Edition, outcomes: Sequence[ApplicantOutcome],
                    accounts: Mapping[str, User]) -> None:
    """ESI and external id: each names one person, the same as the email (an existing account's ESI is the
    learner's to change; a new account gets the one given). The institution's external id is attached when saved."""
    esis = {o.esi.lower() for o in outcomes if o.esi}
    by_esi = {u.lower_esi: u for u in User.objects.annotate(lower_esi=Lower("esi")).filter(lower_esi__in=esis)}
    with_external_id = [o for o in outcomes if o.external_id]
    may_attach = (bool(with_external_id) and identifiers.acting_institution_id(actor) is not None
                  and policy.can(actor, "external_id.manage") and policy.can(actor, "application.view", edition))
    for outcome in outcomes:
        account = accounts.get(outcome.email.lower())
        if outcome.esi:
            owner = by_esi.get(outcome.esi.lower())
            if owner is not None and owner != account:
                outcome.refuse("esi", _("Another account (with another email) has this European Student Identifier."))
            elif account is not None and account.esi and account.esi.lower() != outcome.esi.lower():
                outcome.refuse("esi", _("The account of this email has another European Student Identifier."))
            elif account is not None and not account.esi:
                outcome.warnings.append(_("The ESI is not stored: the account of this email exists, and only the "
                                          "learner sets its European Student Identifier."))
        if not outcome.external_id:
            continue
        if not may_attach:
            outcome.refuse("external_id", _("Attaching your institution's external ids needs the scopes "
                                            "external-ids:write and applications:read."))
            continue
        known = {str(pk) for pk in identifiers.object_ids(actor, ExternalIdKind.LEARNER, outcome.external_id)}
        if known and (account is None or str(account.pk) not in known):
            outcome.refuse("external_id", _("Your institution uses this external id for another learner."))
        elif account is not None:
            current = identifiers.values_for(actor, ExternalIdKind.LEARNER, [account.pk]).get(str(account.pk))
            if current and current != outcome.external_id:
                outcome.warnings.append(_("Replaces your institution's external id %(old)s for this learner.") % {
                    "old": current})


def _check(actor, edition: Edition, rows: Sequence[ApplicantRow],
           institution: Institution | None) -> list[ApplicantOutcome]:
    outcomes = []
    for row in rows:
        values, errors = _field_errors(edition, _normalised(row.values))
        outcome = ApplicantOutcome(row=row.row, email=values["email"] or "", values=values, errors=errors,
                                   outcome=ERROR if errors else CREATE)
        _identity_errors(outcome, row.values)
        outcomes.append(outcome)
    emails = {o.email.lower() for o in outcomes if o.email}
    existing = _existing(edition, emails)
    accounts = {u.lower_email: u for u in User.objects.annotate(lower_email=Lower("email")).filter(
        lower_email__in=emails)}
    _check_identity(actor, edition, [o for o in outcomes if o.outcome != ERROR], accounts)
    people = _people(edition)
    first_row: dict[tuple[str, str], int] = {}
    for outcome in outcomes:
        email = outcome.email.lower()
        for name, value in (("email", email), ("esi", outcome.esi.lower()), ("external_id", outcome.external_id)):
            if value and (name, value) in first_row:
                outcome.refuse(name, _("The same %(column)s is on row %(row)s: one row per applicant.") % {
                    "column": name, "row": first_row[name, value]})
            elif value:
                first_row[name, value] = outcome.row
        if outcome.outcome == ERROR:
            continue
        outcome.account = accounts.get(email)
        application = existing.get(email)
        if application is None:
            v = outcome.values
            if (v["given_names"].casefold(), v["family_names"].casefold(), v["date_of_birth"]) in people:
                outcome.warnings.append(_("An application with the same names and date of birth exists: both are "
                                          "flagged as possible duplicates."))
            continue
        outcome.application = application
        outcome.outcome = DUPLICATE
        if application.status == S.SUBMITTED and _imported_by(application, institution):
            changed = [n for n in APPLICANT_FIELDS if _current(application, n) != outcome.values[n]]
            if changed:
                outcome.outcome = UPDATE
                outcome.message = _("Corrects the submitted application (not yet under review): %(fields)s.") % {
                    "fields": ", ".join(changed)}
            else:
                outcome.message = _("The application was imported already, with the same answers.")
        elif application.status == S.DRAFT:
            outcome.message = _("The applicant has started an application here themselves; they submit it.")
        elif application.status == S.SUBMITTED:
            outcome.message = _("The application was submitted by the applicant or another partner; it is left as "
                                "it is.")
        else:
            outcome.message = _("An application of this email is %(status)s; changes go through the reviewing "
                                "institution.") % {"status": application.get_status_display().lower()}
    return outcomes


def _importing_institution(actor, edition: Edition) -> Institution | None:
    ids = importing_institution_ids(policy.actor_for(actor))
    partners = sorted((p.institution for p in edition.programme.partners.select_related("institution")),
                      key=lambda i: i.short_name)
    return next((i for i in partners if i.pk in ids), None)


def _account(outcome: ApplicantOutcome) -> tuple[User, bool]:
    if outcome.account is not None:
        return outcome.account, False
    values = outcome.values
    user = User.objects.create_user(email=outcome.email, full_name=f"{values['given_names']} {values['family_names']}",
                                    esi=outcome.esi)
    EmailAddress.objects.create(user=user, email=user.email, verified=False, primary=True)
    return user, True


def _create(actor, edition: Edition, outcome: ApplicantOutcome, institution: Institution | None) -> Application:
    user, created = _account(outcome)
    application = Application(edition=edition, applicant=user, status=S.DRAFT, utm_medium=IMPORT_MEDIUM,
                              utm_source=institution.short_name if institution else "", **outcome.values)
    application.full_clean(exclude=["applicant"], validate_constraints=False)
    application.save()
    _record(actor, "application.imported", application, {
        "institution": application.utm_source, "account": "created" if created else "existing"})
    application.submitted_at = timezone.now()
    _move(actor, application, S.SUBMITTED)
    _flag_duplicates(application)
    return application


def _update(actor, outcome: ApplicantOutcome) -> Application:
    application = _locked(outcome.application)
    if application.status != S.SUBMITTED:
        raise TransitionError(_("The application of %(email)s (row %(row)s) is %(status)s by now; nothing was "
                                "saved. Check the file again.") % {
            "email": outcome.email, "row": outcome.row, "status": application.get_status_display().lower()})
    before = audit.snapshot(application, APPLICANT_FIELDS)
    for name, value in outcome.values.items():
        setattr(application, name, value)
    application.full_clean(exclude=["edition", "applicant"], validate_constraints=False)
    application.save()
    _record(actor, "application.import_updated", application, {
        "fields": sorted(audit.diff(before, audit.snapshot(application, APPLICANT_FIELDS)))})
    _flag_duplicates(application)
    return application


def _save(actor, edition: Edition, report: ApplicantImport, institution: Institution | None) -> None:
    for outcome in report.rows:
        if outcome.outcome == CREATE:
            outcome.application = _create(actor, edition, outcome, institution)
        elif outcome.outcome == UPDATE:
            outcome.application = _update(actor, outcome)
        else:
            continue
        if outcome.external_id:
            external_id_set(actor=actor, kind=ExternalIdKind.LEARNER, object_id=outcome.application.applicant_id,
                            value=outcome.external_id)


def applications_import(*, actor, edition: Edition, rows: Sequence[ApplicantRow], dry_run: bool = True,
                        source: str = "json", ignored_columns: Sequence[str] = ()) -> ApplicantImport:
    """Check every applicant of ``rows`` and, unless ``dry_run``, save them all or none (see the module)."""
    policy.require(actor, "application.import", edition)
    _framework(edition)
    if not accepts_applications(edition):
        raise DomainError(_("This edition does not accept applications now: applicants are imported while its "
                            "application window is open."))
    if not rows:
        raise ValidationError({"applicants": [_("No applicants to import.")]})
    if len(rows) > MAX_ROWS:
        raise ValidationError({"applicants": [_("At most %(n)s rows per file.") % {"n": MAX_ROWS}]})
    institution = _importing_institution(actor, edition)
    with transaction.atomic():
        if not dry_run:
            _lock_edition(edition)  # two imports of one edition check and save one after the other
        report = ApplicantImport(edition=edition, dry_run=dry_run, committed=False,
                                 rows=_check(actor, edition, rows, institution), ignored_columns=list(ignored_columns))
        if dry_run or report.has_errors:
            return report
        try:
            with transaction.atomic():
                _save(actor, edition, report, institution)
        except IntegrityError as exc:  # an account or id taken by someone else between the check and the write
            raise DomainError(_("An account or identifier in the file was taken meanwhile; nothing was saved. "
                                "Check the file again.")) from exc
        report.committed = True
        audit.record(actor, "admissions.applicants_imported", edition, {
            **report.counts, "format": source, "institution": institution.short_name if institution else ""},
            consortium_id=edition.programme.consortium_id, institution_id=institution.pk if institution else None)
    return report
