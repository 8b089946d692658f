"""Standard identifiers and partners' external ids: formats, normalisation, and the lookups the other apps use.

Formats (each validator cites its source):

* SCHAC home organisation (``schacHomeOrganization``): the institution's DNS domain, ``kuleuven.be``.
* Erasmus code: the European Commission's code of a higher-education institution, ``B  LEUVEN01``.
* European Student Identifier (ESI): ``urn:schac:personalUniqueCode:int:esi:<scope>:<code>``.
* External ids: a partner system's own key for one of our records (EWP's printable-ASCII identifier).

External ids live in one table (``ExternalId``: institution, kind, object id, value). The kinds are records of
higher apps (learners, enrolments, courses), so this module cannot know which of them a caller may see: each app
registers, per kind, the queryset of the records an actor may see (``register_kind``) and the services check it
before attaching an id. An institution only ever reads its own external ids (``values_for``, ``annotate``,
``object_ids``).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Any
from uuid import UUID

from django.core.exceptions import ValidationError
from django.db.models import OuterRef, QuerySet, Subquery, Value
from django.db.models.fields import CharField
from django.utils.translation import gettext_lazy as _

# --- SCHAC home organisation -------------------------------------------------------------------------------------

_LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
_TLD = r"(?:[a-z]{2,63}|xn--[a-z0-9-]{1,59})"
SCHAC_PATTERN = re.compile(rf"^(?:{_LABEL}\.)+{_TLD}$")
SCHAC_MESSAGE = _("A SCHAC home organisation code is the institution's domain, e.g. 'kuleuven.be'.")


def normalise_schac_code(value: str) -> str:
    """Domain names are case-insensitive: stored in lower case, without surrounding spaces or a final dot."""
    return (value or "").strip().rstrip(".").lower()


def validate_schac_code(value: str) -> None:
    """``schacHomeOrganization`` (REFEDS SCHAC schema, attribute 1.3.6.1.4.1.25178.1.2.9): "the domain name of the
    organization", with the syntax of a DNS domain (RFC 1035 §2.3.1: labels of letters, digits and hyphens, at most 63
    characters each, neither starting nor ending with a hyphen; at most 253 characters in all). We also require at
    least two labels and an alphabetic (or IDNA ``xn--``) top-level label, so ``localhost`` or ``10.0.0.1`` fail."""
    if not value or len(value) > 253 or not SCHAC_PATTERN.match(value):
        raise ValidationError(SCHAC_MESSAGE, code="invalid_schac")


# --- Erasmus code ------------------------------------------------------------------------------------------------

ERASMUS_MAX_LENGTH = 13
ERASMUS_PATTERN = re.compile(r"^(?:[A-Z] {2}|[A-Z]{2} |[A-Z]{3})[A-Z][A-Z-]*[0-9]{2,3}$")
ERASMUS_MESSAGE = _(
    "An Erasmus code looks like 'B  LEUVEN01', 'E  MADRID21', 'NL AMSTERD01' or 'IRLDUBLIN01': the country letters "
    "padded with spaces to three characters, the city and a two- or three-digit number."
)


def normalise_erasmus_code(value: str) -> str:
    """Upper case, and the country part padded to three characters: ``b leuven01`` → ``B  LEUVEN01``.

    People often type one space after a one-letter country; the code itself always has the country in a
    three-character field. A code without any space is left as typed (``IRLDUBLIN01``: three letters fill the field).
    """
    value = (value or "").strip().upper()
    parts = value.split(None, 1)
    if len(parts) == 2 and len(parts[0]) <= 3:
        return parts[0].ljust(3) + parts[1].replace(" ", "")
    return value


def validate_erasmus_code(value: str) -> None:
    """The Erasmus institutional code (Erasmus+ Charter for Higher Education; the European Commission's data
    dictionaries describe it as a string "of characters up to 13", e.g. ``B BRUXEL01``): the country code of 1–3
    letters left-aligned in a three-character field ("countries denoted by one character contain a double space",
    Lathan et al., Sci Data 7:41, 2020, table 2), then the city (letters, possibly a hyphen: ``E  ALCAL-H01``) and the
    institution's number in that city, two or three digits (``F  PARIS009``)."""
    if not value or len(value) > ERASMUS_MAX_LENGTH or not ERASMUS_PATTERN.match(value):
        raise ValidationError(ERASMUS_MESSAGE, code="invalid_erasmus")


# --- European Student Identifier ---------------------------------------------------------------------------------

ESI_PREFIX = "urn:schac:personalUniqueCode:int:esi:"
ESI_MAX_LENGTH = 255
ESI_EXAMPLE = "urn:schac:personalUniqueCode:int:esi:es:12345678Z"
_ESI = re.compile(r"^urn:schac:personaluniquecode:int:esi:(?P<scope>[^:]*):(?P<code>.*)$", re.IGNORECASE)
_COUNTRY = re.compile(r"^[a-z]{2}$")
_SUBDIVISION = re.compile(r"^(?P<country>[a-z]{2})-[a-z0-9]{1,3}$")
#: RFC 2141 §2.2 (URN characters): letters, digits, ``()+,-.:=@;$_!*'`` and %-escapes; §2.3 reserves ``/?#`` (they
#: must be %-escaped) and §2.4 excludes everything else, and octet 0 even escaped.
_ESI_CODE = re.compile(r"^(?:[A-Za-z0-9()+,\-.:=@;$_!*']|%(?!00)[0-9A-Fa-f]{2})+$")

ESI_MESSAGES = {
    "prefix": _("A European Student Identifier starts with “urn:schac:personalUniqueCode:int:esi:”, then a country "
                "code or your university's domain, a colon and your student code, e.g. %(example)s."),
    "scope": _("After “…:int:esi:” comes the country code that issued the student code (ISO 3166, e.g. “es”, or a "
               "region such as “es-m”) or your university's domain (e.g. “uma.es”); “%(scope)s” is neither."),
    "code": _("The student code after the country or domain may hold letters, digits and ( ) + , - . : = @ ; $ _ ! "
              "* ' only; write any other character as a %%-escape (%(slash)s for “/”)."),
    "length": _("A European Student Identifier has at most %(max)s characters."),
}


def _countries() -> set[str]:
    from django_countries import countries

    return {code.lower() for code, _name in countries}


def normalise_esi(value: str) -> str:
    """The canonical spelling: the prefix as the specification writes it, the country or domain in lower case (both
    case-insensitive), the student code as given. Anything that does not parse is returned stripped, for the
    validator to explain."""
    value = (value or "").strip()
    match = _ESI.match(value)
    if not match:
        return value
    return f"{ESI_PREFIX}{match['scope'].lower()}:{match['code']}"


def validate_esi(value: str) -> None:
    """The European Student Identifier, as the ``schacPersonalUniqueCode`` profile of the "European Student
    Identifier Specification" v1.0 (GÉANT / MyAcademicID, https://wiki.geant.org/display/SM/European+Student+Identifier)
    defines it, in either of its two forms:

    * nation- or region-wide student code: ``urn:schac:personalUniqueCode:int:esi:<country-code>:<code>``, where the
      country code is an officially assigned ISO 3166-1 alpha-2 code or, for an administrative division, an ISO 3166-2
      code (``es:…``, ``es-m:…``);
    * HEI-wide student code: ``urn:schac:personalUniqueCode:int:esi:<sHO>:<code>``, where ``<sHO>`` is the issuing
      institution's schacHomeOrganization, possibly qualified by the unit that issued it (``uma.es:…``,
      ``yyy.uma.es:…``).

    ``<code>`` "uniquely identifies the student within the scope that it has been issued" and must be a valid URN
    string (RFC 2141, sections 2.2 to 2.4); the whole value is at most 255 characters. SCHAC compares values
    case-insensitively (``caseIgnoreMatch``), so uniqueness here is case-insensitive too.
    """
    if len(value) > ESI_MAX_LENGTH:
        raise ValidationError(ESI_MESSAGES["length"], code="esi_length", params={"max": ESI_MAX_LENGTH})
    match = _ESI.match(value or "")
    if not match or not match["scope"] or not match["code"]:
        raise ValidationError(ESI_MESSAGES["prefix"], code="esi_prefix", params={"example": ESI_EXAMPLE})
    scope = match["scope"].lower()
    subdivision = _SUBDIVISION.match(scope)
    if _COUNTRY.match(scope):
        valid_scope = scope in _countries()
    elif subdivision:
        valid_scope = subdivision["country"] in _countries()
    else:
        valid_scope = bool(SCHAC_PATTERN.match(scope))
    if not valid_scope:
        raise ValidationError(ESI_MESSAGES["scope"], code="esi_scope", params={"scope": match["scope"]})
    if not _ESI_CODE.match(match["code"]):
        raise ValidationError(ESI_MESSAGES["code"], code="esi_code", params={"slash": "%2F"})


# --- External ids ------------------------------------------------------------------------------------------------

EXTERNAL_ID_MAX_LENGTH = 64
EXTERNAL_ID_PATTERN = re.compile(r"^[\x21-\x7e]{1,64}$")
EXTERNAL_ID_MESSAGE = _("An external id is 1 to 64 printable ASCII characters without spaces (e.g. 'SIS-2026-0042').")


def validate_external_id(value: str) -> None:
    """A partner's key for one of our records: EWP's ``AsciiPrintableIdentifier`` (``[!-~]{1,64}``, Erasmus Without
    Paper common-types.xsd), the form in which partner systems already exchange surrogate keys."""
    if not value or not EXTERNAL_ID_PATTERN.match(value):
        raise ValidationError(EXTERNAL_ID_MESSAGE, code="invalid_external_id")


#: kind → a function giving the queryset of that kind's records ``user`` may see (policy-filtered).
_kinds: dict[str, Callable[[Any], QuerySet]] = {}


def register_kind(kind: str, *, visible: Callable[[Any], QuerySet]) -> None:
    """``visible(user)`` is the queryset of the records of ``kind`` that ``user`` may see: an institution attaches
    external ids to those only. Each app registers its kinds when it loads."""
    _kinds[kind] = visible


def registered_kinds() -> list[str]:
    return sorted(_kinds)


def is_visible(user, kind: str, object_id: UUID | str) -> bool:
    visible = _kinds.get(kind)
    return visible is not None and visible(user).filter(pk=object_id).exists()


def acting_institution_id(user) -> UUID | None:
    """The institution whose external ids ``user`` reads and writes: a token's institution, or the institution of a
    staff member (one staff profile each). None for learners, platform administrators and everyone else."""
    from . import policy

    actor = policy.actor_for(user)
    if not actor.is_authenticated or len(actor.institution_ids) != 1:
        return None
    return next(iter(actor.institution_ids))


def values_for(user, kind: str, object_ids: Iterable[UUID | str]) -> dict[str, str]:
    """{object id (str): value} of the caller institution's external ids for these records (one query)."""
    from .models import ExternalId

    institution_id = acting_institution_id(user)
    ids = [str(i) for i in object_ids if i]
    if institution_id is None or not ids:
        return {}
    rows = ExternalId.objects.filter(institution_id=institution_id, kind=kind, object_id__in=ids)
    return {str(object_id): value for object_id, value in rows.values_list("object_id", "value")}


def annotate(queryset: QuerySet, user, kind: str, *, name: str = "external_id_value", field: str = "pk") -> QuerySet:
    """``queryset`` with ``name`` = the caller institution's external id of kind ``kind`` for the record's ``field``
    (a subquery: lists show the ids without a query per row). NULL when the caller acts for no institution."""
    from .models import ExternalId

    institution_id = acting_institution_id(user)
    if institution_id is None:
        return queryset.annotate(**{name: Value(None, output_field=CharField())})
    values = ExternalId.objects.filter(institution_id=institution_id, kind=kind, object_id=OuterRef(field))
    return queryset.annotate(**{name: Subquery(values.values("value")[:1])})


def object_ids(user, kind: str, value: str) -> QuerySet:
    """The ids of the records the caller institution knows as ``value`` (its own external ids only), as a subquery
    for ``filter(pk__in=...)``; empty for a caller that acts for no institution."""
    from .models import ExternalId

    institution_id = acting_institution_id(user)
    rows = ExternalId.objects.filter(institution_id=institution_id, kind=kind, value=value)
    return (rows if institution_id is not None else rows.none()).values("object_id")
