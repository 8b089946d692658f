"""A quality review as charts and as a PDF: the chart geometry of its evidence (``quality.charts``), shared by the
review's page and its report, and the report rendered from its frozen content through the platform's pipeline
(``consortium.pdf``: HTML → PDF/A-3b with WeasyPrint)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.template.loader import render_to_string
from django.utils import translation
from django.utils.translation import gettext as _

from consortium.api import pdf

from . import charts
from .evidence import Evidence, from_json


def _percent(value) -> str:
    """Rates as the tables write them (one decimal); the scale's ticks as whole numbers."""
    return f"{value} %"


def _mean(value) -> str:
    return f"{value:.2f}"


def evidence_charts(evidence: Evidence) -> dict[str, Any]:
    """The charts of the year's figures (``evidence.total``), each with its data table (``rows``)."""
    total = evidence.total
    rated = [c for c in total.courses if c.pass_rate is not None]
    partners = [p for p in total.partners if p.pass_rate is not None]
    completion = total.completion
    themes = [t for t in (total.feedback.themes if total.feedback else []) if t.shown]
    workload = total.feedback.workload if total.feedback else None
    recruitment = total.recruitment
    return {
        "pass_course": charts.bar_chart(
            [(f"{c.code} {c.title}", c.pass_rate) for c in rated], label_heading=_("Course"),
            value_heading=_("Pass rate"), format_value=_percent),
        "pass_partner": charts.bar_chart(
            [(p.partner, p.pass_rate) for p in partners], label_heading=_("Partner"), value_heading=_("Pass rate"),
            format_value=_percent),
        "distributions": [
            (c, charts.bar_chart([(g.grade, g.count) for g in c.distribution], label_heading=_("Grade"),
                                 value_heading=_("Results"), label_width=56, bar_height=10, bar_gap=2,
                                 group_gap=3, font_size=10))
            for c in total.courses if c.results and c.distribution],
        "completion": charts.bar_chart(
            [(_("Awarded"), completion.awarded), (_("Still studying"), completion.studying),
             (_("Suspended"), completion.suspended), (_("Withdrawn"), completion.withdrawn)]
            if completion.enrolled else [],
            label_heading=_("Enrolments"), value_heading=_("Learners")),
        "themes": charts.bar_chart(
            [(t.label, t.mean) for t in themes], label_heading=_("Theme"), value_heading=_("Mean rating (1–5)"),
            label_width=200, max_label=32, format_value=_mean),
        "workload": charts.bar_chart(
            [(_("Below %(low)s h") % {"low": workload.expected_low}, workload.below),
             (_("%(low)s–%(high)s h") % {"low": workload.expected_low, "high": workload.expected_high},
              workload.within),
             (_("Above %(high)s h") % {"high": workload.expected_high}, workload.above)]
            if workload is not None and workload.shown else [],
            label_heading=_("Reported hours"), value_heading=_("Learners")),
        "funnel": charts.funnel(
            [(_("Started applications"), recruitment.started), (_("Submitted"), recruitment.submitted),
             (_("Admitted"), recruitment.admitted), (_("Enrolled"), recruitment.enrolled)]
            if recruitment.started or recruitment.submitted else [],
            headings=(_("Stage"), _("Applications"), _("From the stage before"))),
    }


def theme_matrix(evidence: Evidence) -> dict[str, Any]:
    """The feedback themes (rows) per edition and for the year (columns): each cell a ``ThemeFigure`` or None when
    the edition's survey had no question of the theme (or there was no survey)."""
    columns = [*evidence.editions, None]
    figures = [e.figures.feedback for e in evidence.editions] + [evidence.total.feedback]
    labels: dict[str, str] = {}
    for f in figures:
        for t in f.themes if f else []:
            labels.setdefault(t.theme, t.label)
    rows = []
    for theme, label in labels.items():
        cells = [next((t for t in f.themes if t.theme == theme), None) if f else None for f in figures]
        rows.append({"theme": theme, "label": label, "cells": cells})
    return {"columns": [e.intake_code if e else _("Year") for e in columns], "rows": rows}


def _parse_times(data: dict[str, Any], *names: str) -> dict[str, Any]:
    return {**data, **{n: dt.datetime.fromisoformat(data[n]) if data.get(n) else None for n in names}}


def report_context(content: dict[str, Any]) -> dict[str, Any]:
    """The PDF template's context from a report's frozen content."""
    evidence = from_json(content["evidence"])
    review = _parse_times(content["review"], "submitted_at", "decided_at", "evidence_frozen_at")
    actions = [{**a, "due_on": dt.date.fromisoformat(a["due_on"])} for a in content["actions"]]
    return {"content": content, "final": content["final"], "language": content["language"], "review": review,
            "evidence": evidence, "charts": evidence_charts(evidence), "themes": theme_matrix(evidence),
            "findings": content["findings"],
            "actions": actions, "generated_at": dt.datetime.fromisoformat(content["generated_at"]), "pdf": True}


def render_report_html(content: dict[str, Any]) -> str:
    with translation.override(content.get("language") or "en"):
        return render_to_string("quality/review/pdf/report.html", report_context(content))


def render_report_pdf(content: dict[str, Any]) -> bytes:
    return pdf.html_to_pdf(render_report_html(content))
