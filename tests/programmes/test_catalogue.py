"""The public catalogue (D3): only published programmes, search and filters, and a programme page that shows
every item of the communication checklist in the visitor's language."""

import datetime as dt
import re
from decimal import Decimal

import django.urls
import pytest
from django.core.files.base import ContentFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from programmes.models import LearningOutcome, ProgrammeText, StackingLink
from programmes.services import checklist
from tests.factories import (
    CourseFactory,
    CurriculumVersionFactory,
    EditionFactory,
    InstitutionFactory,
    MembershipFactory,
    ProgrammeFactory,
    ProgrammePartnerFactory,
)

pytestmark = pytest.mark.django_db

CATALOGUE = "/programmes/"
# A 1×1 transparent PNG, enough for an ImageField.
PNG = (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"
       b"\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00\x00\x00IEND\xaeB`\x82")


def listed(response) -> list[str]:
    """The codes of the programmes on a catalogue page, in order."""
    assert response.status_code == 200
    return re.findall(r'href="/programmes/([\w-]+)/"', response.content.decode())


def published(**kwargs):
    return ProgrammeFactory(status="published", **kwargs)


def set_texts(programme, language="en", **fields):
    ProgrammeText.objects.update_or_create(programme=programme, language=language, defaults=fields)


def fake_apply_url(monkeypatch, *, exists: bool):
    """Pretend the admissions capability does (or does not) provide the ``application-start`` URL (the ``{% url %}``
    tag imports ``django.urls.reverse`` when it renders)."""
    real = django.urls.reverse

    def fake(viewname, *args, **kwargs):
        if viewname == "application-start":
            if not exists:
                raise NoReverseMatch("application-start is not installed")
            return f"/apply/{kwargs['args'][0]}/"
        return real(viewname, *args, **kwargs)

    monkeypatch.setattr(django.urls, "reverse", fake)


# --- URLs ---------------------------------------------------------------------------------------------


def test_urls_and_public_policy():
    from consortium import policy
    from programmes.views_public import CatalogueView, ProgrammePublicView

    assert reverse("catalogue") == CATALOGUE
    assert reverse("programme-public", args=["chip-design"]) == "/programmes/chip-design/"
    assert CatalogueView.policy_action == ProgrammePublicView.policy_action == policy.PUBLIC


# --- Catalogue ----------------------------------------------------------------------------------------


def test_only_published_programmes_are_listed(client):
    shown = published(code="shown")
    ProgrammeFactory(code="still-a-draft")
    ProgrammeFactory(code="archived-one", status="archived")
    response = client.get(CATALOGUE)
    assert listed(response) == ["shown"]
    html = response.content.decode()
    assert "Programme shown" in html  # the title, not just the code
    assert str(shown.ects).rstrip("0").rstrip(".") in html


def test_catalogue_row_shows_type_ects_eqf_mode_partners_and_open_state(client):
    programme = published(code="a-rowfacts", ects=Decimal("15.0"), qualification_type="short_programme",
                          eqf_level=7, delivery_mode="blended")
    partner = ProgrammePartnerFactory(programme=programme, institution=InstitutionFactory(short_name="UPX"))
    assert partner
    EditionFactory(programme=programme, status="open")
    closed = published(code="b-rowclosed")
    EditionFactory(programme=closed, status="planned",
                   application_opens_at=timezone.now() + dt.timedelta(days=30),
                   application_closes_at=timezone.now() + dt.timedelta(days=60))
    html = client.get(CATALOGUE).content.decode()
    card = html[html.index("/programmes/a-rowfacts/"):html.index("/programmes/b-rowclosed/")]
    for value in ("Short micro-credential programme", ">15<", ">7<", "Blended", "UPX",
                  programme.lead_institution.short_name, "Open for applications"):
        assert value in card, value
    rest = html[html.index("/programmes/b-rowclosed/"):]
    assert "Applications open on" in rest
    assert "Open for applications" not in rest


def test_catalogue_uses_the_visitors_language_with_fallback(client):
    translated = published(code="translated", languages=["en", "fr"])
    set_texts(translated, "fr", title="Conception de puces", qualification_name="Certificat de conception")
    published(code="english-only")
    html = client.get(CATALOGUE, HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert "Conception de puces" in html
    assert "Programme english-only" in html  # no French text: the primary language
    assert 'lang="en"' in html  # and marked as such
    html = client.get(CATALOGUE, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Conception de puces" not in html
    assert "Programme translated" in html


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("chip", ["chip-design", "other"]),  # title of "other" in French, code of "chip-design"
        ("CHIP-DES", ["chip-design"]),  # code, case-insensitive
        ("quantum", ["quantum"]),  # English title
        ("Puces", ["other"]),  # a title in another language
        ("Certificate in Applied", ["quantum"]),  # qualification name
        ("nothing-like-this", []),
    ],
)
def test_search(client, query, expected):
    published(code="chip-design")
    set_texts(published(code="quantum"), title="Quantum computing", qualification_name="Certificate in Applied QC")
    other = published(code="other", languages=["en", "fr"])
    set_texts(other, "fr", title="Chip et puces", qualification_name="Certificat")
    published(code="unrelated")
    ProgrammeFactory(code="chip-draft")  # never listed, even when it matches
    assert listed(client.get(CATALOGUE, {"q": query})) == expected


def test_search_lists_a_programme_once_when_several_texts_match(client):
    programme = published(code="twice", languages=["en", "fr"])
    set_texts(programme, "fr", title="Programme twice, en français", qualification_name="CMF micro-credential")
    assert listed(client.get(CATALOGUE, {"q": "programme twice"})) == ["twice"]


def test_filter_eqf(client):
    published(code="eqf5", eqf_level=5)
    published(code="eqf7", eqf_level=7)
    assert listed(client.get(CATALOGUE, {"eqf": "7"})) == ["eqf7"]
    assert listed(client.get(CATALOGUE, {"eqf": "5"})) == ["eqf5"]


def test_filter_ects_range(client):
    published(code="a-small", ects=Decimal("2.0"), qualification_type="micro_credential_course")
    published(code="b-cmf", ects=Decimal("5.0"))
    published(code="c-short", ects=Decimal("15.0"), qualification_type="short_programme")
    published(code="d-micro", ects=Decimal("30.0"), qualification_type="microdegree")
    assert listed(client.get(CATALOGUE, {"ects_min": "4", "ects_max": "15"})) == ["b-cmf", "c-short"]
    assert listed(client.get(CATALOGUE, {"ects_min": "20"})) == ["d-micro"]
    assert listed(client.get(CATALOGUE, {"ects_max": "5"})) == ["a-small", "b-cmf"]
    assert listed(client.get(CATALOGUE, {"ects_min": "4.5", "ects_max": "5.5"})) == ["b-cmf"]


def test_filter_delivery_mode(client):
    published(code="online-one", delivery_mode="online")
    published(code="blended-one", delivery_mode="blended")
    published(code="site-one", delivery_mode="on_site")
    assert listed(client.get(CATALOGUE, {"mode": "blended"})) == ["blended-one"]
    assert listed(client.get(CATALOGUE, {"mode": "on_site"})) == ["site-one"]


def test_filter_language_matches_whole_codes_in_the_json_list(client):
    published(code="en-fr", languages=["en", "fr"])
    published(code="de-only", primary_language="de", languages=["de"])
    published(code="en-only", languages=["en"])
    assert listed(client.get(CATALOGUE, {"lang": "fr"})) == ["en-fr"]
    assert listed(client.get(CATALOGUE, {"lang": "de"})) == ["de-only"]
    assert listed(client.get(CATALOGUE, {"lang": "en"})) == ["en-fr", "en-only"]
    assert listed(client.get(CATALOGUE, {"lang": "es"})) == []


def test_filter_partner_institution(client):
    with_partner = published(code="with-partner")
    partner = ProgrammePartnerFactory(programme=with_partner).institution
    other = published(code="other-partner")
    ProgrammePartnerFactory(programme=other)
    response = client.get(CATALOGUE, {"partner": str(partner.pk)})
    assert listed(response) == ["with-partner"]
    # The lead institution is a partner too; the filter's options list the partners of published programmes.
    assert listed(client.get(CATALOGUE, {"partner": str(other.lead_institution_id)})) == ["other-partner"]
    html = response.content.decode()
    assert f'<option value="{partner.pk}" selected>{partner.short_name}</option>' in html


def test_filters_combine(client):
    published(code="match", eqf_level=7, delivery_mode="online", languages=["en", "fr"])
    published(code="wrong-eqf", eqf_level=6, delivery_mode="online", languages=["en", "fr"])
    published(code="wrong-lang", eqf_level=7, delivery_mode="online", languages=["en"])
    query = {"eqf": "7", "mode": "online", "lang": "fr", "ects_min": "1", "ects_max": "10", "q": "match"}
    assert listed(client.get(CATALOGUE, query)) == ["match"]


@pytest.mark.parametrize(
    "garbage",
    [
        {"eqf": "abc"}, {"eqf": "3"}, {"eqf": "7.5"}, {"ects_min": "lots"}, {"ects_max": "NaN"},
        {"ects_min": "Infinity"}, {"ects_max": "1e99999"}, {"ects_min": "-5"}, {"ects_min": "9" * 80},
        {"mode": "teleport"}, {"lang": "xx"}, {"lang": '"en'}, {"partner": "not-a-uuid"},
        {"partner": "00000000-0000-0000-0000-00000000000Z"}, {"page": "zzz"}, {"page": "-1"}, {"q": "%_\\'\"" * 70},
        {"ects_min": "10", "ects_max": "2"},
    ],
)
def test_garbage_filters_are_ignored_not_a_server_error(client, garbage):
    published(code="alpha", ects=Decimal("5.0"))
    published(code="beta", ects=Decimal("5.0"))
    response = client.get(CATALOGUE, garbage)
    assert response.status_code == 200
    if "q" not in garbage and "ects_max" not in garbage:
        assert listed(response) == ["alpha", "beta"]


def test_garbage_filter_is_reported_and_the_valid_ones_still_apply(client):
    published(code="seven", eqf_level=7)
    published(code="six", eqf_level=6)
    response = client.get(CATALOGUE, {"eqf": "7", "ects_min": "lots"})
    assert listed(response) == ["seven"]
    html = response.content.decode()
    assert "One filter was ignored" in html
    assert 'aria-invalid="true"' in html
    assert '<p class="error small" id="id_ects_min_error">Enter a number. Ignored.</p>' in html


def test_empty_states(client):
    response = client.get(CATALOGUE)
    assert "No programme is published yet" in response.content.decode()
    published(code="only")
    response = client.get(CATALOGUE, {"eqf": "8"})
    assert listed(response) == []
    assert "No programme matches these filters" in response.content.decode()


def test_catalogue_is_paginated_by_24(client):
    for n in range(26):
        published(code=f"p{n:02d}")
    first = listed(client.get(CATALOGUE))
    second = listed(client.get(CATALOGUE, {"page": "2"}))
    assert len(first) == 24
    assert second == ["p24", "p25"]
    assert "Page 1 of 2" in client.get(CATALOGUE).content.decode()


def _rich_programme(n: int):
    """A published programme with a translation, an extra partner and an open and a planned edition."""
    programme = published(code=f"rich-{n:02d}", languages=["en", "fr"])
    set_texts(programme, "fr", title=f"Programme riche {n}", qualification_name="Certificat")
    ProgrammePartnerFactory(programme=programme)
    curriculum = CurriculumVersionFactory(programme=programme, status="approved")
    EditionFactory(programme=programme, status="open", curriculum=curriculum)
    EditionFactory(programme=programme, status="planned", curriculum=curriculum,
                   application_opens_at=timezone.now() + dt.timedelta(days=100),
                   application_closes_at=timezone.now() + dt.timedelta(days=130))
    return programme


def test_catalogue_uses_a_constant_number_of_queries(client, django_assert_max_num_queries):
    for n in range(3):
        _rich_programme(n)
    with CaptureQueriesContext(connection) as few:
        assert len(listed(client.get(CATALOGUE, HTTP_ACCEPT_LANGUAGE="fr"))) == 3
    for n in range(3, 25):
        _rich_programme(n)
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get(CATALOGUE, HTTP_ACCEPT_LANGUAGE="fr")
    assert len(listed(response)) == 24
    assert "Programme riche 20" in response.content.decode()
    # The same with every filter set.
    query = {"q": "rich", "eqf": "6", "ects_min": "1", "ects_max": "10", "mode": "online", "lang": "fr"}
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert len(listed(client.get(CATALOGUE, query))) == 24


# --- Public page of a programme ------------------------------------------------------------------------

FULL_TEXTS = {
    "title": "Chip design fundamentals",
    "qualification_name": "Certificate in Chip Design",
    "objectives": "Design a digital chip from specification to layout.",
    "target_group": "Engineers in the semiconductor industry.",
    "prerequisites": "A bachelor in electrical engineering.",
    "assessment": "A written online exam and a design project.",
    "enrolment_procedure": "Apply online with your CV and diploma.",
    "fees_and_discounts": "EUR 750; 20% discount for alumni.",
    "success_requirements": "Pass every course with at least 10/20.",
    "industry_relevance": "Co-designed with three chip manufacturers.",
    "credit_transfer": "Credits are recognised towards the MSc Microelectronics.",
    "terms_and_conditions": "Full refund until two weeks before the start; suspension on request.",
    "resources": "Cloud EDA tools, recorded lectures and a forum.",
}
#: 2099-05-01 08:30 UTC is 10:30 in Brussels (summer time).
CLOSES = dt.datetime(2099, 5, 1, 8, 30, tzinfo=dt.UTC)


@pytest.fixture
def full(db):
    """A published programme with every public field filled in."""
    programme = ProgrammeFactory(
        code="chip-design", status="published", languages=["en", "fr"], ects=Decimal("6.0"), eqf_level=7,
        qf_ehea_cycle="second", delivery_mode="blended", synchronicity="mixed", pacing="cohort",
        participation_form="Online study with two on-site lab weeks", duration_weeks=12, lifespan="recurring",
        award_kind="joint", qa_scheme="Accredited by the national QA agency under the ESG.",
        mobility_scheme="Blended intensive programme with a week in Leuven.", stand_alone=False,
        external_stacking="MSc Microelectronics (KU Example)\nMSc Embedded Systems (UPM)",
        professional_body="Institute of Chip Engineers", professional_recognition="Counts as 40 CPD hours.",
        contact_name="Dr Ada Lovelace", contact_email="chips@example.org",
    )
    set_texts(programme, "en", **FULL_TEXTS)
    lead = programme.lead_institution
    lead.legal_name = "Katholieke Universiteit Example"
    lead.logo.save("logo.png", ContentFile(PNG), save=True)
    partner = InstitutionFactory(short_name="UPM", legal_name="Universidad Politécnica Example", country="ES")
    MembershipFactory(consortium=programme.consortium, institution=partner, role="partner")
    ProgrammePartnerFactory(programme=programme, institution=partner, role="partner")
    employer = InstitutionFactory(short_name="CHIPCO", legal_name="ChipCo GmbH", country="DE", kind="employer",
                                  erasmus_code="", pic="", schac_code="")
    ProgrammePartnerFactory(programme=programme, institution=employer, role="associated")
    for position, (category, text, uri) in enumerate([
        ("knowledge", "Explain the digital design flow", "http://data.europa.eu/esco/skill/design-flow"),
        ("skills", "Run a static timing analysis", "http://data.europa.eu/esco/skill/timing-analysis"),
        ("responsibility", "Lead a small design team", ""),
    ]):
        LearningOutcome.objects.create(programme=programme, category=category, text=text, esco_uri=uri,
                                       position=position)
    old = CurriculumVersionFactory(programme=programme, number=1, status="approved")
    CourseFactory(version=old, code="OLD1", title="Retired course")
    current = CurriculumVersionFactory(programme=programme, number=2, status="approved",
                                       required_elective_ects=Decimal("2.0"))
    CourseFactory(version=current, code="CD1", title="Digital design flow", provider=lead, ects=Decimal("4.0"),
                  mandatory=True, assessment_method="online_exam", supervision="supervised_online")
    CourseFactory(version=current, code="CD2", title="Analog add-on", provider=partner, ects=Decimal("2.0"),
                  mandatory=False, assessment_method="assignment", supervision="unsupervised", position=1)
    draft = CurriculumVersionFactory(programme=programme, number=3, status="draft")
    CourseFactory(version=draft, code="DRAFT9", title="Not yet approved")
    EditionFactory(programme=programme, curriculum=current, intake_code="2099-spring", status="open",
                   time_zone="Europe/Brussels", application_opens_at=timezone.now() - dt.timedelta(days=1),
                   application_closes_at=CLOSES, starts_on=dt.date(2099, 6, 1), ends_on=dt.date(2099, 8, 31),
                   capacity=40)
    EditionFactory(programme=programme, curriculum=current, intake_code="2100-autumn", status="planned",
                   time_zone="Europe/Brussels", application_opens_at=dt.datetime(2099, 12, 1, 8, 0, tzinfo=dt.UTC),
                   application_closes_at=dt.datetime(2100, 3, 1, 8, 0, tzinfo=dt.UTC),
                   starts_on=dt.date(2100, 9, 1), ends_on=dt.date(2100, 12, 15), capacity=None)
    EditionFactory(programme=programme, curriculum=old, intake_code="2020-closed", status="closed")
    bigger = published(code="microdegree-chips", ects=Decimal("30.0"), qualification_type="microdegree")
    set_texts(bigger, title="Microdegree in semiconductor engineering")
    StackingLink.objects.create(programme=programme, target=bigger)
    hidden = ProgrammeFactory(code="draft-target")
    StackingLink.objects.create(programme=programme, target=hidden)
    smaller = published(code="intro-to-chips", ects=Decimal("2.0"), qualification_type="micro_credential_course")
    set_texts(smaller, title="Introduction to chips")
    StackingLink.objects.create(programme=smaller, target=programme)
    programme.refresh_from_db()
    return programme


def page(client, programme, **kwargs):
    response = client.get(reverse("programme-public", args=[programme.code]), **kwargs)
    assert response.status_code == 200
    return response.content.decode()


def section(html: str, anchor: str) -> str:
    start = html.index(f'<section id="{anchor}"')
    return html[start:html.index("</section>", start)]


def test_every_checklist_item_has_a_visible_heading(client, full):
    html = page(client, full)
    headings = [str(label) for label, _present in checklist(full) if str(label) != "An approved curriculum"]
    headings += ["Qualification", "Curriculum", "Mobility scheme"]
    for heading in headings:
        assert re.search(rf"<h2[^>]*>\s*{re.escape(heading)}\s*</h2>", html), heading
    assert all(present for _label, present in checklist(full))  # the fixture really is complete


def test_detail_shows_every_text_and_value(client, full):
    html = page(client, full)
    for value in FULL_TEXTS.values():
        assert value.replace("&", "&amp;") in html, value
    for value in [
        "CMF micro-credential programme", "Second cycle (master)", "Joint single certificate signed by all",
        "Katholieke Universiteit Example", "Accredited by the national QA agency under the ESG.",
        "Blended intensive programme with a week in Leuven.", "Institute of Chip Engineers",
        "Counts as 40 CPD hours.", "Online study with two on-site lab weeks",
        "Mixed synchronous and asynchronous", "Cohort-based, fixed start", "12 weeks", "Recurring",
        "150–180 hours", "English", "French", "Dr Ada Lovelace", 'href="mailto:chips@example.org"',
    ]:
        assert value in html, value
    assert "<dd>7</dd>" in html and "<dd>6</dd>" in html  # EQF level, ECTS


def test_detail_outcomes_grouped_with_esco_links(client, full):
    outcomes = section(page(client, full), "outcomes")
    knowledge = outcomes.index("<h3>Knowledge</h3>")
    skills = outcomes.index("<h3>Skills</h3>")
    responsibility = outcomes.index("<h3>Responsibility and autonomy</h3>")
    assert knowledge < outcomes.index("Explain the digital design flow") < skills
    assert skills < outcomes.index("Run a static timing analysis") < responsibility
    assert responsibility < outcomes.index("Lead a small design team")
    assert 'href="http://data.europa.eu/esco/skill/design-flow"' in outcomes
    assert 'href="http://data.europa.eu/esco/skill/timing-analysis"' in outcomes
    assert outcomes.count("ESCO skill") == 2


def test_detail_curriculum_and_assessment_come_from_the_newest_approved_version(client, full):
    html = page(client, full)
    curriculum = section(html, "curriculum")
    for value in ("CD1", "Digital design flow", "CD2", "Analog add-on", full.lead_institution.short_name, "UPM",
                  "Mandatory", "Elective", '<th scope="col">', "Choose electives worth 2 ECTS"):
        assert value in curriculum, value
    assessment = section(html, "assessment")
    for value in ("Online exam", "Supervised online, with identity verification", "Assignment / project",
                  "Unsupervised, no identity verification"):
        assert value in assessment, value
    for hidden in ("OLD1", "Retired course", "DRAFT9", "Not yet approved"):
        assert hidden not in html


def test_detail_editions_in_their_time_zone(client, full):
    enrolment = section(page(client, full), "enrolment")
    assert "2099-spring" in enrolment and "2100-autumn" in enrolment
    assert "2020-closed" not in enrolment
    assert "May 1, 2099, 10:30 a.m." in enrolment  # 08:30 UTC shown in Brussels time
    assert "(Europe/Brussels)" in enrolment
    assert "June 1, 2099" in enrolment and "Aug. 31, 2099" in enrolment
    assert "<td>40</td>" in enrolment and "No limit" in enrolment
    assert "Applications open on Dec. 1, 2099, 9 a.m." in enrolment  # the planned edition (winter time)


def test_detail_partners_with_logo_country_and_role(client, full):
    partners = section(page(client, full), "partners")
    lead = full.lead_institution
    assert f'src="{reverse("institution-logo", args=[lead.pk])}"' in partners
    assert partners.count("<img") == 1  # only institutions with a logo
    for value in ("Katholieke Universiteit Example", "Universidad Politécnica Example", "ChipCo GmbH", "Spain",
                  "Germany", "Belgium", "Lead", "Partner", "Associated"):
        assert value in partners, value
    # The lead institution first, then partners, then associated partners.
    assert (partners.index("Katholieke Universiteit Example") < partners.index("Universidad Politécnica Example")
            < partners.index("ChipCo GmbH"))


def test_detail_stackability(client, full):
    stack = section(page(client, full), "stackability")
    assert 'href="/programmes/microdegree-chips/"' in stack
    assert "Microdegree in semiconductor engineering" in stack
    assert 'href="/programmes/intro-to-chips/"' in stack and "Introduction to chips" in stack
    assert "draft-target" not in stack  # a draft is not public
    assert "<li>MSc Microelectronics (KU Example)</li>" in stack
    assert "<li>MSc Embedded Systems (UPM)</li>" in stack
    assert "stand-alone" not in stack


def test_stand_alone_programme(client):
    programme = published(code="alone")
    assert "A stand-alone micro-credential" in section(page(client, programme), "stackability")


def test_minimal_programme_page_renders_with_empty_states(client):
    programme = published(code="bare")
    html = page(client, programme)
    assert "Not specified yet." in html
    assert "No edition is planned at the moment" in html
    assert "The curriculum is being finalised." in html


@pytest.mark.parametrize("status", ["draft", "archived"])
def test_unpublished_programme_page_is_404(client, status):
    programme = ProgrammeFactory(code="hidden", status=status)
    assert client.get(reverse("programme-public", args=[programme.code])).status_code == 404
    assert client.get("/programmes/no-such-programme/").status_code == 404


def test_detail_in_the_visitors_language(client, full):
    set_texts(full, "fr", title="Les fondamentaux de la conception de puces",
              qualification_name="Certificat en conception de puces", objectives="Concevoir une puce numérique.",
              fees_and_discounts="750 EUR ; remise de 20 % pour les anciens.")
    html = page(client, full, HTTP_ACCEPT_LANGUAGE="fr")
    assert '<html lang="fr">' in html
    assert "Les fondamentaux de la conception de puces" in html
    assert "Concevoir une puce numérique." in html
    assert "remise de 20 %" in html
    assert FULL_TEXTS["title"] not in html
    assert "catalogue-fallback" not in html


def test_detail_falls_back_to_the_primary_language(client, full):
    html = page(client, full, HTTP_ACCEPT_LANGUAGE="de")
    assert '<html lang="de">' in html
    assert FULL_TEXTS["title"] in html
    assert FULL_TEXTS["objectives"] in html
    assert "catalogue-fallback" in html  # a small note says the texts are in English
    assert 'lang="en"' in html
    assert "catalogue-fallback" not in page(client, full, HTTP_ACCEPT_LANGUAGE="en")


def test_apply_button_absent_without_an_application_start_url(client, full, monkeypatch):
    fake_apply_url(monkeypatch, exists=False)
    enrolment = section(page(client, full), "enrolment")
    assert "/apply/" not in enrolment
    assert ">Apply<" not in enrolment
    assert "Applications open until" in enrolment  # still says the window is open


def test_apply_button_carries_campaign_parameters(client, full, monkeypatch):
    fake_apply_url(monkeypatch, exists=True)
    open_edition = full.editions.get(intake_code="2099-spring")
    planned = full.editions.get(intake_code="2100-autumn")
    url = reverse("programme-public", args=[full.code])
    html = client.get(url, {"utm_source": "newsletter", "utm_medium": "email", "utm_campaign": "spring 2099",
                            "other": "dropped"}).content.decode()
    expected = f"/apply/{open_edition.pk}/?utm_source=newsletter&amp;utm_medium=email&amp;utm_campaign=spring+2099"
    assert f'href="{expected}"' in html
    assert f"/apply/{planned.pk}/" not in html  # not open yet: no button
    assert "other=dropped" not in html
    html = client.get(url).content.decode()
    assert f'href="/apply/{open_edition.pk}/"' in html  # no campaign, a plain link


def test_no_apply_button_when_the_window_has_closed(client, full, monkeypatch):
    fake_apply_url(monkeypatch, exists=True)
    edition = full.editions.get(intake_code="2099-spring")
    edition.application_opens_at = timezone.now() - dt.timedelta(days=20)
    edition.application_closes_at = timezone.now() - dt.timedelta(days=1)
    edition.save()
    enrolment = section(page(client, full), "enrolment")
    assert f"/apply/{edition.pk}/" not in enrolment
    assert "Applications closed" in enrolment


def test_public_pages_send_no_inline_script_or_style(client, full):
    for html in (page(client, full), client.get(CATALOGUE).content.decode()):
        assert "style=" not in html
        assert "<style" not in html
        assert not re.search(r"<script(?![^>]*\bsrc=)", html)
