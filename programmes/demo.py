"""Demo programmes: a 5-ECTS CMF micro-credential that stacks into a 30-ECTS microdegree.

Built through the services, as the people of the demo consortium would: the team leader drafts,
the board approves the curricula, the leader publishes and opens an edition.
"""

import datetime as dt
from decimal import Decimal

from django.utils import timezone

from consortium.api import Role

from . import services
from .models import Programme

COMMON_TEXT = {
    "enrolment_procedure": "Apply online through the joint application form before the deadline. UNED reviews "
    "the eligibility of every applicant for the whole consortium; you hear from us within three weeks.",
    "credit_transfer": "ECTS credits are recognised by KU Leuven, UNED and Open Universiteit as elective credits in "
    "related bachelor's and master's programmes, following each university's recognition rules.",
    "terms_and_conditions": "You may suspend your studies once for up to one edition. Fees are refunded in full "
    "up to 14 days after the start, and not afterwards. The joint examination regulations apply.",
    "resources": "Online learning environment with video lectures, open-source EDA tools in a browser lab, "
    "weekly live seminars, a discussion forum moderated by the teachers, and study support from all three "
    "universities.",
}

CDF = {
    "code": "euchip-cdf",
    "title": "Chip Design Fundamentals",
    "qualification_name": "CMF micro-credential in Chip Design Fundamentals",
    "data": {
        "ects": Decimal("5.0"),
        "qualification_type": "cmf_micro_credential",
        "eqf_level": 6,
        "qf_ehea_cycle": "first",
        "isced_f": "0714",  # Electronics and automation
        "primary_language": "en",
        "languages": ["en", "es", "nl"],
        "delivery_mode": "online",
        "synchronicity": "mixed",
        "pacing": "cohort",
        "duration_weeks": 10,
        "participation_form": "Online, individual study with weekly live seminars and a team lab assignment",
        "award_kind": "joint",
        "qa_scheme": "Internal quality assurance of KU Leuven according to the ESG, with "
        "learner feedback after each edition and an annual programme review.",
        "mobility_scheme": "Virtual mobility: learners follow courses taught by all three universities online.",
        "contact_name": "EUCHIP programme office",
        "contact_email": "programmes@euchip.example",
        "design_starts_on": dt.date(2025, 9, 1),
        "development_starts_on": dt.date(2025, 12, 1),
        "implementation_starts_on": dt.date(2026, 6, 1),
        "design_started_on": dt.date(2025, 9, 15),
    },
    "texts": {
        "objectives": "Understand how a digital chip is designed, verified and synthesised, and practise the "
        "complete front-end flow on an open-source design kit.",
        "target_group": "Engineers and bachelor's graduates in electronics, computer science or physics who want "
        "to move into semiconductor design; professionals re-skilling for the European chip industry.",
        "prerequisites": "A bachelor's degree (EQF 6) in a STEM field or equivalent work experience; basic "
        "programming; English at CEFR B2.",
        "assessment": "One supervised online exam with identity verification (60 %) and a lab assignment (40 %).",
        "fees_and_discounts": "€ 450 for professionals; € 300 for job seekers; free for degree students of the "
        "partner universities. 10 % early-bird discount until two months before the start.",
        "success_requirements": "Pass every course with at least 10/20. Expect 125–150 hours of study over "
        "10 weeks (about 12–15 hours a week).",
        "industry_relevance": "Co-designed with EuroChip Design GmbH, whose engineers mentor the lab "
        "assignment; the skills map to junior digital design roles.",
        **COMMON_TEXT,
    },
    "translations": {
        "es": {
            "title": "Fundamentos del diseño de chips",
            "qualification_name": "Microcredencial CMF en fundamentos del diseño de chips",
        },
        "nl": {"title": "Basis van chipontwerp", "qualification_name": "CMF-microcredential Basis van chipontwerp"},
    },
    "outcomes": [
        (
            "knowledge",
            "Explain the stages of the digital integrated-circuit design flow",
            "http://data.europa.eu/esco/skill/7c3c4ee1-58b5-4c4a-bc2a-3f0f2e5d2a11",
        ),
        (
            "skills",
            "Describe a digital circuit in a hardware description language and verify it by simulation",
            "http://data.europa.eu/esco/skill/3a7f1e2b-8d44-4a10-9c61-5b0e4c8d9f22",
        ),
        ("skills", "Apply a logic-synthesis flow and interpret timing reports", ""),
        ("responsibility", "Work in an international team on a design assignment and document decisions", ""),
    ],
    "courses": [
        ("CDF1", "Digital design basics", "KU Leuven", "2.0", True, "online_exam", "supervised_online"),
        ("CDF2", "RTL verification", "UNED", "1.5", True, "assignment", "unsupervised"),
        ("CDF3", "Synthesis flows", "OU NL", "1.5", True, "online_exam", "supervised_online"),
    ],
    "elective": "0",
}

MSD = {
    "code": "euchip-msd",
    "title": "Microdegree in Semiconductor Design",
    "qualification_name": "Expert certificate in Semiconductor Design",
    "data": {
        "ects": Decimal("30.0"),
        "qualification_type": "microdegree",
        "eqf_level": 7,
        "qf_ehea_cycle": "second",
        "isced_f": "0714",
        "primary_language": "en",
        "languages": ["en", "es"],
        "delivery_mode": "blended",
        "synchronicity": "mixed",
        "pacing": "cohort",
        "duration_weeks": 40,
        "participation_form": "Blended: online courses with a one-week on-site design camp in Leuven",
        "award_kind": "joint",
        "qa_scheme": "Internal quality assurance of KU Leuven according to the ESG; "
        "accredited as a postgraduate certificate by the Flemish accreditation organisation (NVAO).",
        "mobility_scheme": "Blended mobility: one week of physical mobility to KU Leuven (eligible for an "
        "Erasmus+ Blended Intensive Programme grant), the rest virtual.",
        "professional_body": "European Semiconductor Skills Council",
        "professional_recognition": "Counts for 30 continuing professional development credits.",
        "contact_name": "EUCHIP programme office",
        "contact_email": "programmes@euchip.example",
        "design_starts_on": dt.date(2025, 6, 1),
        "development_starts_on": dt.date(2025, 9, 1),
        "implementation_starts_on": dt.date(2026, 9, 1),
    },
    "texts": {
        "objectives": "Become an entry-level chip designer: from specification to layout, analog and digital, "
        "with an industry capstone project.",
        "target_group": "Engineers with a bachelor's degree who want a specialisation recognised across Europe, and "
        "industry professionals moving into IC design.",
        "prerequisites": "A bachelor's degree in electrical engineering or a related field, or the CMF "
        "micro-credential Chip Design Fundamentals; English at CEFR B2.",
        "assessment": "Online and on-site exams with identity verification, design assignments and an industry "
        "capstone project assessed by a joint committee.",
        "fees_and_discounts": "€ 2,400 for professionals; € 1,500 for job seekers; employers may sponsor places.",
        "success_requirements": "Pass all mandatory courses and 4 ECTS of electives. Expect 750–900 hours of study "
        "over 40 weeks.",
        "industry_relevance": "The capstone is set and mentored by EuroChip Design GmbH; graduates meet the "
        "competence profile of the European Chips Act skills agenda.",
        **COMMON_TEXT,
    },
    "translations": {
        "es": {
            "title": "Microtitulación en diseño de semiconductores",
            "qualification_name": "Certificado de experto en diseño de semiconductores",
        }
    },
    "outcomes": [
        (
            "knowledge",
            "Explain the stages of the digital integrated-circuit design flow",
            "http://data.europa.eu/esco/skill/7c3c4ee1-58b5-4c4a-bc2a-3f0f2e5d2a11",
        ),
        ("knowledge", "Analyse analog building blocks and their trade-offs in CMOS technology", ""),
        ("skills", "Carry a design from RTL to a verified layout with industry-standard flows", ""),
        ("responsibility", "Lead a small engineering team through an industry design project", ""),
    ],
    "courses": [
        ("CDF1", "Digital design basics", "KU Leuven", "2.0", True, "online_exam", "supervised_online"),
        ("CDF2", "RTL verification", "UNED", "1.5", True, "assignment", "unsupervised"),
        ("CDF3", "Synthesis flows", "OU NL", "1.5", True, "online_exam", "supervised_online"),
        ("MSD1", "Analog IC design", "KU Leuven", "6.0", True, "on_site_exam", "on_site_id"),
        ("MSD2", "Physical design and layout", "UNED", "6.0", True, "online_exam", "supervised_online"),
        ("MSD3", "Low-power design", "OU NL", "5.0", True, "oral_exam", "supervised_online"),
        ("MSD4", "Industry capstone project", "KU Leuven", "4.0", True, "assignment", "supervised_no_id"),
        ("MSD5", "Hardware security", "UNED", "4.0", False, "online_exam", "supervised_online"),
        ("MSD6", "RISC-V processor architecture", "OU NL", "4.0", False, "assignment", "unsupervised"),
    ],
    "elective": "4",
    # Courses are in the programme's field (0714) unless said otherwise: security is taught as network security.
    "course_fields": {"MSD5": "0612"},
}


def _build(spec: dict, ctx: dict) -> Programme:
    institutions, people = ctx["institutions"], ctx["people"]
    leader = people["leader@kuleuven.example"]
    coordinator = people["consortium.admin@kuleuven.example"]
    board = people["board@kuleuven.example"]
    consortium = ctx["consortium"]
    data = {
        **spec["data"],
        "code": spec["code"],
        "lead_institution": institutions["KU Leuven"],
        "issuing_institution": institutions["KU Leuven"],
        "agreement": consortium.agreements.first(),
    }
    programme = services.programme_create(
        actor=leader,
        consortium=consortium,
        data=data,
        title=spec["title"],
        qualification_name=spec["qualification_name"],
        partners=[institutions["UNED"], institutions["OU NL"], institutions["EuroChip"]],
        leader=leader,
    )
    services.programme_text_save(
        actor=leader,
        programme=programme,
        language="en",
        data={"title": spec["title"], "qualification_name": spec["qualification_name"], **spec["texts"]},
    )
    for language, text in spec["translations"].items():
        services.programme_text_save(actor=leader, programme=programme, language=language, data=text)
    for category, text, uri in spec["outcomes"]:
        services.outcome_add(actor=leader, programme=programme, category=category, text=text, esco_uri=uri)
    services.team_member_add(actor=leader, programme=programme, email="member@uned.example", role="member")
    services.team_member_add(actor=leader, programme=programme, email="partner@eurochip.example", role="stakeholder")
    services.board_member_appoint(actor=coordinator, programme=programme, email=board.email, role=Role.PROGRAMME_BOARD)
    services.board_member_appoint(
        actor=coordinator, programme=programme, email="exam.board@ou.example", role=Role.EXAM_BOARD
    )
    services.task_add(
        actor=leader,
        programme=programme,
        title="Agree the learning outcomes with all partners",
        phase="design",
        owner=leader,
        due_on=data["development_starts_on"],
    )
    services.task_add(
        actor=leader,
        programme=programme,
        title="Record the lecture videos",
        phase="development",
        owner=people["member@uned.example"],
        due_on=data["implementation_starts_on"],
    )

    version = programme.curricula.get()
    for position, (code, title, provider, ects, mandatory, method, supervision) in enumerate(spec["courses"]):
        services.course_save(
            actor=leader,
            version=version,
            data={
                "code": code,
                "title": title,
                "provider": institutions[provider],
                "ects": Decimal(ects),
                "mandatory": mandatory,
                "assessment_method": method,
                "supervision": supervision,
                "position": position,
                "learning_outcomes": f"Explain the core concepts of {title.lower()}\nApply them in a design exercise",
                "isced_f": spec.get("course_fields", {}).get(code, ""),
            },
        )
    services.curriculum_elective_set(actor=leader, version=version, required_elective_ects=Decimal(spec["elective"]))
    services.curriculum_submit(actor=leader, version=version)
    services.curriculum_approve(actor=board, version=version, comment="Coherent and well balanced across partners.")
    return programme


def _open_edition(programme: Programme, leader, intake: str, starts_in_days: int) -> None:
    now = timezone.now().replace(minute=0, second=0, microsecond=0)
    starts = timezone.localdate() + dt.timedelta(days=starts_in_days)
    edition = services.edition_save(
        actor=leader,
        programme=programme,
        data={
            "intake_code": intake,
            "time_zone": "Europe/Brussels",
            "application_opens_at": now - dt.timedelta(days=7),
            "application_closes_at": now + dt.timedelta(days=starts_in_days - 14),
            "starts_on": starts,
            "ends_on": starts + dt.timedelta(weeks=programme.duration_weeks),
            "capacity": 40,
            "curriculum": programme.curricula.get(status="approved"),
            "fee_table_reference": "See 'Fees and discounts' on the programme page.",
        },
    )
    services.edition_transition(actor=leader, edition=edition, target="open")


def seed(ctx: dict) -> list[str]:
    if Programme.objects.filter(code__in=[CDF["code"], MSD["code"]]).exists():
        return ["Demo programmes already exist."]
    leader = ctx["people"]["leader@kuleuven.example"]
    msd = _build(MSD, ctx)
    cdf = _build(CDF, ctx)
    services.stacking_set(
        actor=leader,
        programme=cdf,
        targets=[msd],
        stand_alone=False,
        external="MSc Electrical Engineering (KU Leuven), as recognised prior learning",
    )
    services.stacking_set(
        actor=leader,
        programme=msd,
        targets=[],
        stand_alone=False,
        external="MSc Electronic Engineering (UNED)\nMSc Computer Science (Open Universiteit)",
    )
    for programme, intake, days in ((cdf, "2027-spring", 75), (msd, "2027-autumn", 120)):
        services.programme_publish(actor=leader, programme=programme)
        _open_edition(programme, leader, intake, days)
    return [
        f"Programmes: {cdf.title} (5 ECTS), which stacks into {msd.title} (30 ECTS); both published with an "
        "approved curriculum and an edition open for applications."
    ]
