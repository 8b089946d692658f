"""ISCED-F 2013, the UNESCO International Standard Classification of Education: Fields of education and training
(UNESCO Institute for Statistics, 2014, ISBN 978-92-9189-150-4), shipped as data in ``data/isced_f_2013.csv``.

Codes nest by prefix: 11 broad fields and "field unknown" (two digits, ``06``), their narrow fields (three, ``061``)
and detailed fields (four, ``0613``). Narrow fields ending in 8 (detailed in 88) hold inter-disciplinary programmes;
``99``/``999``/``9999`` is "field unknown". The names are the classification's English names. The list is read
once per process.

The EU publishes the same codes as a controlled vocabulary (``http://data.europa.eu/snb/isced-f/<code>``), which the
European Learning Model uses for a learning specification's ``ISCEDFCode``.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

CSV_PATH = Path(__file__).resolve().parent / "data" / "isced_f_2013.csv"
EU_VOCABULARY = "http://data.europa.eu/snb/isced-f/"
LEVELS = {2: "broad", 3: "narrow", 4: "detailed"}
UNKNOWN_CODE = _("“%(code)s” is not an ISCED-F 2013 field of education (e.g. 0613, 061 or 06).")


@dataclass(frozen=True)
class Field:
    code: str
    level: str
    name: str

    @property
    def parent(self) -> str | None:
        return self.code[:-1] if len(self.code) > 2 else None

    @property
    def broad(self) -> str:
        return self.code[:2]

    @property
    def uri(self) -> str:
        return EU_VOCABULARY + self.code

    @property
    def label(self) -> str:
        return f"{self.code} {self.name}"


@cache
def fields() -> dict[str, Field]:
    """Every field by code, in the classification's order."""
    with CSV_PATH.open(encoding="utf-8", newline="") as handle:
        rows = [Field(r["code"], r["level"], r["name"]) for r in csv.DictReader(handle)]
    for row in rows:
        if LEVELS.get(len(row.code)) != row.level or not row.code.isdigit():
            raise ValueError(f"{CSV_PATH.name}: {row.code} is not a {row.level} field code")
    return {row.code: row for row in rows}


def get(code: str | None) -> Field | None:
    return fields().get(code or "")


def name(code: str | None) -> str:
    field = get(code)
    return field.name if field else ""


def label(code: str | None) -> str:
    field = get(code)
    return field.label if field else ""


def detailed() -> list[Field]:
    return [f for f in fields().values() if f.level == "detailed"]


def validate(value: str) -> None:
    """A field of the list, at any level (a detailed field is best; a broad one stands for "not further defined")."""
    if value and value not in fields():
        raise ValidationError(UNKNOWN_CODE, code="unknown_isced_f", params={"code": value})


def choices() -> list[tuple[str, list[tuple[str, str]]]]:
    """For a select: one group per broad field, holding it and its narrow and detailed fields."""
    groups: dict[str, list[tuple[str, str]]] = {}
    titles: dict[str, str] = {}
    for field in fields().values():
        if field.level == "broad":
            titles[field.code] = field.label
        indent = "\u2003" * (len(field.code) - 2)
        groups.setdefault(field.broad, []).append((field.code, f"{indent}{field.label}"))
    return [(titles[code], options) for code, options in groups.items()]


def model_field(help_text):
    """The ISCED-F code column of a programme or a course."""
    from django.db import models

    return models.CharField(_("field of education (ISCED-F 2013)"), max_length=4, blank=True, db_index=True,
                            validators=[validate], help_text=help_text)
