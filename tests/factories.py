import datetime as dt

import factory
from allauth.account.models import EmailAddress
from factory.django import DjangoModelFactory

from consortium import models

PASSWORD = "correct-horse-battery-staple"


class UserFactory(DjangoModelFactory):
    class Meta:
        model = models.User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"person{n}@example.org")
    full_name = factory.Faker("name")
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def verified(self, create, extracted, **kwargs):
        if create:
            self.save()
            EmailAddress.objects.create(user=self, email=self.email, verified=True, primary=True)


def _letters(n: int) -> str:
    """``n`` in base 26 with the letters A–Z (0 → "A", 26 → "BA")."""
    letters = ""
    while True:
        n, digit = divmod(n, 26)
        letters = chr(65 + digit) + letters
        if not n:
            return letters


class InstitutionFactory(DjangoModelFactory):
    class Meta:
        model = models.Institution

    legal_name = factory.LazyAttribute(lambda o: f"University {o.short_name}")
    short_name = factory.Sequence(lambda n: f"U{n}")
    kind = "university"
    country = "BE"
    city = "Leuven"
    # Letters from the sequence number (base 26) keep the code valid, and within its 13 characters, however many
    # institutions a session makes.
    erasmus_code = factory.Sequence(lambda n: f"B  C{_letters(n)}01")
    pic = factory.Sequence(lambda n: f"{100000000 + n}")
    schac_code = factory.Sequence(lambda n: f"u{n}.example")
    signatory_name = factory.Faker("name")
    signatory_title = "Rector"


class ContactFactory(DjangoModelFactory):
    class Meta:
        model = models.InstitutionContact

    institution = factory.SubFactory(InstitutionFactory)
    service = "legal"
    name = factory.Faker("name")
    email = factory.Sequence(lambda n: f"contact{n}@example.org")


class ConsortiumFactory(DjangoModelFactory):
    class Meta:
        model = models.Consortium

    name = factory.LazyAttribute(lambda o: f"Alliance {o.acronym}")
    acronym = factory.Sequence(lambda n: f"C{n}")


class MembershipFactory(DjangoModelFactory):
    class Meta:
        model = models.Membership

    consortium = factory.SubFactory(ConsortiumFactory)
    institution = factory.SubFactory(InstitutionFactory)
    role = "partner"
    joined_on = dt.date(2025, 1, 1)


class StaffFactory(DjangoModelFactory):
    class Meta:
        model = models.StaffProfile

    user = factory.SubFactory(UserFactory)
    institution = factory.SubFactory(InstitutionFactory)
    job_title = "Lecturer"


class RoleAssignmentFactory(DjangoModelFactory):
    class Meta:
        model = models.RoleAssignment

    user = factory.SubFactory(UserFactory)
    role = "institution_admin"
    scope_key = factory.LazyAttribute(
        lambda o: models.RoleAssignment.make_scope_key(
            consortium_id=o.consortium and o.consortium.id,
            institution_id=o.institution and o.institution.id,
            target_id=o.target_id,
        )
    )
    consortium = None
    institution = factory.Maybe(
        factory.LazyAttribute(lambda o: o.role == "consortium_admin"),
        yes_declaration=None,
        no_declaration=factory.SubFactory(InstitutionFactory),
    )
    target_id = None


class AgreementFactory(DjangoModelFactory):
    class Meta:
        model = models.Agreement

    consortium = factory.SubFactory(ConsortiumFactory)
    kind = "programme"
    title = factory.Sequence(lambda n: f"Agreement {n}")


class AgreementVersionFactory(DjangoModelFactory):
    class Meta:
        model = models.AgreementVersion

    agreement = factory.SubFactory(AgreementFactory)
    number = 1


class AgreementPartyFactory(DjangoModelFactory):
    class Meta:
        model = models.AgreementParty

    version = factory.SubFactory(AgreementVersionFactory)
    institution = factory.SubFactory(InstitutionFactory)
    role = "partner"


class RevenueShareFactory(DjangoModelFactory):
    class Meta:
        model = models.RevenueShare

    version = factory.SubFactory(AgreementVersionFactory)
    institution = factory.SubFactory(InstitutionFactory)
    percent = 50


class AgreementSignatureFactory(DjangoModelFactory):
    class Meta:
        model = models.AgreementSignature

    version = factory.SubFactory(AgreementVersionFactory, status="under_signature")
    institution = factory.SubFactory(InstitutionFactory)
    signed_by_name = factory.Faker("name")
    signed_by_title = "Rector"
    signed_on = dt.date(2026, 1, 15)
    signed_pdf = factory.django.FileField(filename="signed.pdf", data=b"%PDF-1.4\n%%EOF\n")


class AddendumFactory(DjangoModelFactory):
    class Meta:
        model = models.Addendum

    version = factory.SubFactory(AgreementVersionFactory, status="in_force")
    number = factory.Sequence(lambda n: n + 1)
    institution = factory.SubFactory(InstitutionFactory)
    role = "partner"
    summary = "Joins as a partner for teaching one course."


class AuditEventFactory(DjangoModelFactory):
    class Meta:
        model = models.AuditEvent

    actor = factory.SubFactory(UserFactory)
    actor_label = factory.SelfAttribute("actor.email")
    action = "test.done"
    object_type = "consortium.institution"
    object_id = factory.Sequence(str)
    object_repr = "An institution"
    via = "browser"


class ApiTokenFactory(DjangoModelFactory):
    """A token row; use ``services.apitoken_create`` when the key is needed."""

    class Meta:
        model = models.ApiToken

    institution = factory.SubFactory(InstitutionFactory)
    name = factory.Sequence(lambda n: f"system {n}")
    prefix = factory.Sequence(lambda n: f"p{n:07d}")
    key_hash = factory.Sequence(lambda n: f"{n:064x}")
    scopes = factory.LazyFunction(lambda: ["institutions:read"])
    expires_at = factory.LazyFunction(
        lambda: __import__("django.utils.timezone").utils.timezone.now() + dt.timedelta(days=30)
    )


class ExternalIdFactory(DjangoModelFactory):
    """An institution's own id for a learner; use ``services.external_id_set`` for the checked, audited flow."""

    class Meta:
        model = models.ExternalId

    institution = factory.SubFactory(InstitutionFactory)
    kind = "learner"
    object_id = factory.LazyFunction(lambda: UserFactory().pk)
    value = factory.Sequence(lambda n: f"SIS-{n:06d}")


class ErasureRequestFactory(DjangoModelFactory):
    """An open request by the person themselves; use ``services.erasure_request`` for the audited flow."""

    class Meta:
        model = models.ErasureRequest

    user = factory.SubFactory(UserFactory)
    requested_by = factory.SelfAttribute("user")
    reason = "Please erase my account."


class IdempotencyKeyFactory(DjangoModelFactory):
    """A finished key of one token with its stored answer; requests with ``Idempotency-Key`` make the real ones."""

    class Meta:
        model = models.IdempotencyKey

    scope = factory.LazyFunction(lambda: f"token:{ApiTokenFactory().pk}")
    key = factory.Sequence(lambda n: f"key-{n}")
    fingerprint = factory.Sequence(lambda n: f"{n:064x}")
    method = "POST"
    path = "/api/v1/editions/"
    status = models.IdempotencyStatus.COMPLETED
    response_status = 201
    response_headers = factory.LazyFunction(lambda: [["Content-Type", "application/json"]])
    response_body = b"{}"
    expires_at = factory.LazyFunction(
        lambda: __import__("django.utils.timezone").utils.timezone.now() + dt.timedelta(hours=24)
    )


# --- Programmes ------------------------------------------------------------------------------------------

from decimal import Decimal  # noqa: E402

from programmes import models as pm  # noqa: E402


class ProgrammeFactory(DjangoModelFactory):
    """A CMF micro-credential (5 ECTS) led by a university that is the consortium's lead member."""

    class Meta:
        model = pm.Programme
        skip_postgeneration_save = True

    consortium = factory.SubFactory(ConsortiumFactory)
    code = factory.Sequence(lambda n: f"prog-{n}")
    primary_language = "en"
    languages = factory.LazyFunction(lambda: ["en"])
    ects = Decimal("5.0")
    qualification_type = "cmf_micro_credential"
    eqf_level = 6
    delivery_mode = "online"
    synchronicity = "asynchronous"
    pacing = "cohort"
    participation_form = "Online, individual study with weekly live seminars"
    duration_weeks = 10
    lead_institution = factory.LazyAttribute(
        lambda o: MembershipFactory(consortium=o.consortium, role="lead").institution
    )
    issuing_institution = factory.SelfAttribute("lead_institution")
    qa_scheme = "Internal QA of the lead institution, ESG compliant"
    contact_email = "programme@example.org"

    @factory.post_generation
    def with_defaults(self, create, extracted, **kwargs):
        if not create:
            return
        pm.ProgrammeText.objects.get_or_create(
            programme=self,
            language=self.primary_language,
            defaults={"title": f"Programme {self.code}", "qualification_name": "CMF micro-credential"},
        )
        pm.ProgrammePartner.objects.get_or_create(
            programme=self, institution=self.lead_institution, defaults={"role": "lead"}
        )


class ProgrammePartnerFactory(DjangoModelFactory):
    class Meta:
        model = pm.ProgrammePartner

    programme = factory.SubFactory(ProgrammeFactory)
    institution = factory.LazyAttribute(
        lambda o: MembershipFactory(consortium=o.programme.consortium, role="partner").institution
    )
    role = "partner"


class CurriculumVersionFactory(DjangoModelFactory):
    class Meta:
        model = pm.CurriculumVersion

    programme = factory.SubFactory(ProgrammeFactory)
    number = factory.Sequence(lambda n: n + 1)
    status = "draft"


class ProgrammeTextFactory(DjangoModelFactory):
    class Meta:
        model = pm.ProgrammeText

    programme = factory.SubFactory(ProgrammeFactory)
    language = "fr"
    title = factory.Sequence(lambda n: f"Programme {n}")
    qualification_name = "Microcréance"


class LearningOutcomeFactory(DjangoModelFactory):
    class Meta:
        model = pm.LearningOutcome

    programme = factory.SubFactory(ProgrammeFactory)
    category = "skills"
    text = factory.Sequence(lambda n: f"Apply technique {n}")


class StackingLinkFactory(DjangoModelFactory):
    class Meta:
        model = pm.StackingLink

    programme = factory.SubFactory(ProgrammeFactory)
    target = factory.SubFactory(ProgrammeFactory, consortium=factory.SelfAttribute("..programme.consortium"),
                                lead_institution=factory.SelfAttribute("..programme.lead_institution"),
                                ects=Decimal("30.0"), qualification_type="microdegree")


class TeamMemberFactory(DjangoModelFactory):
    class Meta:
        model = pm.TeamMember

    programme = factory.SubFactory(ProgrammeFactory)
    user = factory.SubFactory(UserFactory)
    role = "member"


class TeamTaskFactory(DjangoModelFactory):
    class Meta:
        model = pm.TeamTask

    programme = factory.SubFactory(ProgrammeFactory)
    title = factory.Sequence(lambda n: f"Task {n}")
    phase = "design"


class CourseFactory(DjangoModelFactory):
    class Meta:
        model = pm.Course

    version = factory.SubFactory(CurriculumVersionFactory)
    code = factory.Sequence(lambda n: f"C{n:03d}")
    title = factory.Sequence(lambda n: f"Course {n}")
    provider = factory.LazyAttribute(lambda o: o.version.programme.lead_institution)
    ects = Decimal("5.0")
    mandatory = True
    assessment_method = "online_exam"
    supervision = "supervised_online"
    learning_outcomes = "Explain the design flow\nApply timing analysis"


class EditionFactory(DjangoModelFactory):
    class Meta:
        model = pm.Edition

    programme = factory.SubFactory(ProgrammeFactory)
    intake_code = factory.Sequence(lambda n: f"2026-{n}")
    application_opens_at = factory.LazyFunction(
        lambda: __import__("django.utils.timezone").utils.timezone.now() - dt.timedelta(days=10)
    )
    application_closes_at = factory.LazyFunction(
        lambda: __import__("django.utils.timezone").utils.timezone.now() + dt.timedelta(days=20)
    )
    starts_on = factory.LazyFunction(lambda: dt.date.today() + dt.timedelta(days=40))
    ends_on = factory.LazyFunction(lambda: dt.date.today() + dt.timedelta(days=140))
    capacity = 30
    curriculum = factory.LazyAttribute(lambda o: CurriculumVersionFactory(programme=o.programme, status="approved"))
    status = "planned"


# --- Admissions ------------------------------------------------------------------------------------------

from admissions import models as am  # noqa: E402

PDF_BYTES = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"


def _framework_for(edition) -> "am.AdmissionFramework":
    """The edition's admission framework, created (reviewed by the lead institution) when it has none."""
    framework = am.AdmissionFramework.objects.filter(edition=edition).first()
    return framework or AdmissionFrameworkFactory(edition=edition)


class AdmissionFrameworkFactory(DjangoModelFactory):
    class Meta:
        model = am.AdmissionFramework

    edition = factory.SubFactory(EditionFactory)
    reviewing_institution = factory.LazyAttribute(lambda o: o.edition.programme.lead_institution)
    offer_valid_days = 14
    payment_required = False


class CriterionFactory(DjangoModelFactory):
    class Meta:
        model = am.Criterion

    framework = factory.SubFactory(AdmissionFrameworkFactory)
    kind = "language"
    description = "English at CEFR B2 or higher"
    language = "en"
    min_cefr = "B2"
    accepted_proofs = "IELTS 6.0, TOEFL iBT 80"
    document_label = ""
    position = factory.Sequence(int)


class ApplicationFactory(DjangoModelFactory):
    """A complete application (every field needed to submit), a draft unless ``status`` says otherwise."""

    class Meta:
        model = am.Application

    edition = factory.SubFactory(EditionFactory)
    applicant = factory.SubFactory(UserFactory)
    status = "draft"
    given_names = factory.Faker("first_name")
    family_names = factory.Faker("last_name")
    date_of_birth = dt.date(1990, 5, 17)
    nationality = "BE"
    email = factory.SelfAttribute("applicant.email")
    participant_profile = "professional"
    track = "assessed"
    route = "standard"
    education = "BSc Electrical Engineering"
    highest_eqf_level = 6
    experience_years = 3
    language_proofs = "IELTS 7.0"
    motivation = "I want to move into chip design."


class ApplicationDocumentFactory(DjangoModelFactory):
    class Meta:
        model = am.ApplicationDocument

    application = factory.SubFactory(ApplicationFactory)
    criterion = None
    label = "Diploma and transcript"
    file = factory.django.FileField(filename="diploma.pdf", data=PDF_BYTES)
    kind = "pdf"
    size = len(PDF_BYTES)


class CriterionAssessmentFactory(DjangoModelFactory):
    class Meta:
        model = am.CriterionAssessment

    application = factory.SubFactory(ApplicationFactory, status="under_review")
    criterion = factory.LazyAttribute(lambda o: CriterionFactory(framework=_framework_for(o.application.edition)))
    result = "met"
    note = "IELTS certificate checked."


class ApplicationMessageFactory(DjangoModelFactory):
    class Meta:
        model = am.ApplicationMessage

    application = factory.SubFactory(ApplicationFactory, status="submitted")
    kind = "notice"
    subject = factory.Sequence(lambda n: f"Notice {n}")
    body = "The welcome session is on Monday."


class EnrolmentFactory(DjangoModelFactory):
    class Meta:
        model = am.Enrolment

    application = factory.SubFactory(ApplicationFactory, status="enrolled")
    edition = factory.SelfAttribute("application.edition")
    learner = factory.SelfAttribute("application.applicant")
    enrolled_at = factory.LazyFunction(lambda: __import__("django.utils.timezone").utils.timezone.now())


class InstitutionRegistrationFactory(DjangoModelFactory):
    class Meta:
        model = am.InstitutionRegistration

    enrolment = factory.SubFactory(EnrolmentFactory)
    institution = factory.LazyAttribute(lambda o: o.enrolment.edition.programme.issuing_institution)
    status = "pending"


class ExemptionRequestFactory(DjangoModelFactory):
    class Meta:
        model = am.ExemptionRequest

    application = factory.SubFactory(ApplicationFactory, status="admitted")
    course = factory.LazyAttribute(lambda o: CourseFactory(version=o.application.edition.curriculum))
    basis = "A completed course on digital design at a previous university."
    status = "requested"


# --- Assessment ------------------------------------------------------------------------------------------

from assessment import models as asm  # noqa: E402


class GradingScaleFactory(DjangoModelFactory):
    class Meta:
        model = asm.GradingScale

    name = factory.Sequence(lambda n: f"Scale {n} 0–10")
    grades = factory.LazyFunction(lambda: [str(g) for g in range(10, -1, -1)])
    pass_grade = "5"


class ExamRegulationFactory(DjangoModelFactory):
    class Meta:
        model = asm.ExamRegulation

    programme = factory.SubFactory(ProgrammeFactory)
    number = factory.Sequence(lambda n: n + 1)
    joint_scale = factory.SubFactory(GradingScaleFactory)


class ConversionTableFactory(DjangoModelFactory):
    class Meta:
        model = asm.ConversionTable

    regulation = factory.SubFactory(ExamRegulationFactory)
    institution = factory.LazyAttribute(lambda o: o.regulation.programme.lead_institution)
    national_scale = factory.SubFactory(GradingScaleFactory)
    mapping = factory.LazyFunction(lambda: {str(g): str(g) for g in range(11)})


class EditionRegulationFactory(DjangoModelFactory):
    class Meta:
        model = asm.EditionRegulation

    edition = factory.SubFactory(EditionFactory)
    regulation = factory.LazyAttribute(lambda o: ExamRegulationFactory(programme=o.edition.programme,
                                                                       status="approved"))


class AssessmentFactory(DjangoModelFactory):
    class Meta:
        model = asm.Assessment

    edition = factory.SubFactory(EditionFactory)
    course = factory.LazyAttribute(lambda o: CourseFactory(version=o.edition.curriculum))
    title = factory.Sequence(lambda n: f"Exam {n}")
    method = "online_exam"
    weight = Decimal("100")
    supervision = "supervised_online"


class ResultSheetFactory(DjangoModelFactory):
    class Meta:
        model = asm.ResultSheet

    edition = factory.SubFactory(EditionFactory)
    course = factory.LazyAttribute(lambda o: CourseFactory(version=o.edition.curriculum))
    attempt = 1


class GradeFactory(DjangoModelFactory):
    class Meta:
        model = asm.Grade

    sheet = factory.SubFactory(ResultSheetFactory)
    assessment = factory.LazyAttribute(lambda o: AssessmentFactory(edition=o.sheet.edition, course=o.sheet.course))
    enrolment = factory.LazyAttribute(lambda o: EnrolmentFactory(application__edition=o.sheet.edition))
    national_grade = "7"
    national_scale = factory.SubFactory(GradingScaleFactory)
    joint_grade = "14"


class AppealFactory(DjangoModelFactory):
    class Meta:
        model = asm.Appeal

    grade = factory.SubFactory(GradeFactory)
    reason = "Question 3 was marked against the wrong answer key."


# --- Certification ------------------------------------------------------------------------------------------

from certification import models as cm  # noqa: E402


class AwardFactory(DjangoModelFactory):
    class Meta:
        model = cm.Award

    enrolment = factory.SubFactory(EnrolmentFactory)
    kind = "qualification"
    decided_at = factory.LazyFunction(lambda: __import__("django.utils.timezone").utils.timezone.now())
    issuing_institution = factory.LazyAttribute(lambda o: o.enrolment.edition.programme.issuing_institution)


class CredentialFactory(DjangoModelFactory):
    class Meta:
        model = cm.Credential

    award = factory.SubFactory(AwardFactory)
    version = 1
    snapshot = factory.LazyFunction(lambda: {"schema": 1})
    issued_at = factory.LazyFunction(lambda: __import__("django.utils.timezone").utils.timezone.now())


class DocumentFactory(DjangoModelFactory):
    class Meta:
        model = cm.Document

    credential = factory.SubFactory(CredentialFactory)
    kind = "certificate"
    language = "en"


class BulkIssueFactory(DjangoModelFactory):
    class Meta:
        model = cm.BulkIssue

    edition_id = factory.LazyFunction(lambda: EditionFactory().pk)
    enrolment_ids = factory.LazyFunction(list)


class IssuerKeyFactory(DjangoModelFactory):
    """A real Ed25519 key (encrypted at rest) through the key service: the institution's new active key."""

    class Meta:
        model = cm.IssuerKey

    institution = factory.SubFactory(InstitutionFactory)

    @classmethod
    def _create(cls, model_class, institution, **kwargs):
        from certification.vc import keys

        key = keys.rotate_key(institution)
        if kwargs:
            for name, value in kwargs.items():
                setattr(key, name, value)
            key.save()
        return key


class StatusListFactory(DjangoModelFactory):
    """An institution's empty revocation list (131,072 bits, all clear)."""

    class Meta:
        model = cm.StatusList
        django_get_or_create = ("institution", "purpose")

    institution = factory.SubFactory(InstitutionFactory)
    purpose = "revocation"
    bitstring = factory.LazyFunction(lambda: bytes(cm.STATUS_LIST_MIN_SIZE // 8))


class StatusEntryFactory(DjangoModelFactory):
    """A credential's entry, allocated through the status service (the next never-used index)."""

    class Meta:
        model = cm.StatusEntry

    credential = factory.SubFactory(CredentialFactory)

    @classmethod
    def _create(cls, model_class, credential, **kwargs):
        from certification.vc import status

        return status.entry_for(credential)


# --- Finance -----------------------------------------------------------------------------------------------------

from finance import models as fm  # noqa: E402


class EditionFinanceFactory(DjangoModelFactory):
    class Meta:
        model = fm.EditionFinance
        django_get_or_create = ("edition",)

    edition = factory.SubFactory(EditionFactory)


class FeeFactory(DjangoModelFactory):
    class Meta:
        model = fm.Fee

    edition = factory.SubFactory(EditionFactory)
    profile = ""
    track = "assessed"
    amount = Decimal("1200.00")


class DiscountFactory(DjangoModelFactory):
    class Meta:
        model = fm.Discount

    edition = factory.SubFactory(EditionFactory)
    name = factory.Sequence(lambda n: f"Early bird {n}")
    rule = "early_bird"
    kind = "percent"
    value = Decimal("10")
    valid_until = factory.LazyFunction(lambda: dt.date.today() + dt.timedelta(days=30))


class SponsorshipFactory(DjangoModelFactory):
    class Meta:
        model = fm.Sponsorship

    edition = factory.SubFactory(EditionFactory)
    sponsor_name = factory.Sequence(lambda n: f"Sponsor {n}")
    sponsor_email = "billing@sponsor.example"
    places = 2


class BudgetFactory(DjangoModelFactory):
    class Meta:
        model = fm.Budget

    edition = factory.SubFactory(EditionFactory)
    kind = "planned"
    version = factory.Sequence(lambda n: n + 1)


class CostLineFactory(DjangoModelFactory):
    class Meta:
        model = fm.CostLine

    budget = factory.SubFactory(BudgetFactory)
    category = "teaching"
    description = "Teaching hours"
    borne_by = factory.SelfAttribute("budget.edition.programme.lead_institution")
    quantity = Decimal("20")
    unit_cost = Decimal("80.00")


class GrantFactory(DjangoModelFactory):
    class Meta:
        model = fm.Grant

    edition = factory.SubFactory(EditionFactory)
    funder = "Erasmus+ Blended Intensive Programme"
    received_by = factory.SelfAttribute("edition.programme.lead_institution")
    amount = Decimal("6000.00")
    participants_covered = 15


class NumberSequenceFactory(DjangoModelFactory):
    class Meta:
        model = fm.NumberSequence

    institution = factory.SubFactory(InstitutionFactory)
    kind = "invoice"
    year = 2026


class InvoiceFactory(DjangoModelFactory):
    """An issued invoice, numbered through the service (the next number of the issuer's series)."""

    class Meta:
        model = fm.Invoice

    application = factory.SubFactory(ApplicationFactory, status="offer_accepted")

    @classmethod
    def _create(cls, model_class, application, **kwargs):
        from finance import services

        FeeFactory(edition=application.edition, track=application.track)
        return services.invoice_issue(actor=None, application=application)


class InvoiceLineFactory(DjangoModelFactory):
    class Meta:
        model = fm.InvoiceLine

    invoice = factory.SubFactory(InvoiceFactory)
    position = 9
    description = "Adjustment"
    amount = Decimal("0.00")


class PaymentFactory(DjangoModelFactory):
    class Meta:
        model = fm.Payment

    invoice = factory.SubFactory(InvoiceFactory)
    amount = Decimal("100.00")
    method = "manual"
    reference = "BANK-1"
    received_on = factory.LazyFunction(dt.date.today)


class CreditNoteFactory(DjangoModelFactory):
    """A credit note issued through the service (numbered in the issuer's credit-note series)."""

    class Meta:
        model = fm.CreditNote

    invoice = factory.SubFactory(InvoiceFactory)

    @classmethod
    def _create(cls, model_class, invoice, **kwargs):
        from finance import services

        return services.credit_note_issue(actor=None, invoice=invoice, amount=Decimal("100.00"), reason="Correction",
                                          check_policy=False)


class PlanYearFactory(DjangoModelFactory):
    class Meta:
        model = fm.PlanYear

    programme = factory.SubFactory(ProgrammeFactory)
    year = factory.Sequence(lambda n: 2027 + n % 50)
    learners_per_edition = 25
    average_fee = Decimal("980.00")
    fixed_cost_per_edition = Decimal("14500.00")
    variable_cost_per_learner = Decimal("120.00")


# --- Partner integration: the events feed and webhooks --------------------------------------------------------------


class FeedEventFactory(DjangoModelFactory):
    """An event recorded through ``consortium.feed.record`` (the next sequence number, the audience, webhooks)."""

    class Meta:
        model = models.FeedEvent

    event_type = "application.decided"
    resource_id = factory.Sequence(lambda n: f"00000000-0000-0000-0000-{n:012d}")
    institution_ids = factory.LazyFunction(lambda: [InstitutionFactory().pk])

    @classmethod
    def _create(cls, model_class, event_type, resource_id, institution_ids, **kwargs):
        from consortium import feed

        return feed.record(event_type, resource_id=resource_id, consortium_id=kwargs.get("consortium_id"),
                           institution_ids=institution_ids, data=kwargs.get("data", {"status": "admitted"}))


class FeedAudienceFactory(DjangoModelFactory):
    class Meta:
        model = models.FeedAudience

    event = factory.SubFactory(FeedEventFactory, institution_ids=[])
    institution = factory.SubFactory(InstitutionFactory)


class FeedCounterFactory(DjangoModelFactory):
    """The feed's one counter row (made by the migration; this returns it)."""

    class Meta:
        model = models.FeedCounter
        django_get_or_create = ("id",)

    id = 1


class WebhookEndpointFactory(DjangoModelFactory):
    """An institution's endpoint through ``webhooks.webhook_create`` (secret encrypted); ``.secret`` is the secret."""

    class Meta:
        model = models.WebhookEndpoint

    institution = factory.SubFactory(InstitutionFactory)
    url = factory.Sequence(lambda n: f"https://hooks{n}.example.org/jointcred")
    event_types = factory.LazyFunction(lambda: ["application.decided", "award.issued"])

    @classmethod
    def _create(cls, model_class, institution, url, event_types, **kwargs):
        from consortium import webhooks

        admin = StaffFactory(institution=institution).user
        RoleAssignmentFactory(user=admin, role="institution_admin", institution=institution)
        endpoint, secret = webhooks.webhook_create(actor=admin, institution=institution, url=url,
                                                   event_types=event_types, description=kwargs.get("description", ""))
        endpoint.secret = secret
        return endpoint


class WebhookDeliveryFactory(DjangoModelFactory):
    class Meta:
        model = models.WebhookDelivery

    endpoint = factory.SubFactory(WebhookEndpointFactory)
    event_type = "webhook.test"
    body = '{"type":"webhook.test"}'
    next_attempt_at = factory.LazyFunction(lambda: __import__("django.utils.timezone").utils.timezone.now())


class WebhookAttemptFactory(DjangoModelFactory):
    class Meta:
        model = models.WebhookAttempt

    delivery = factory.SubFactory(WebhookDeliveryFactory)
    number = factory.Sequence(lambda n: n + 1)
    started_at = factory.LazyFunction(lambda: __import__("django.utils.timezone").utils.timezone.now())
    duration_ms = 42
    status_code = 500


# --- Quality: recruitment -----------------------------------------------------------------------------------------

from quality import models as qm  # noqa: E402


class SegmentFactory(DjangoModelFactory):
    class Meta:
        model = qm.Segment

    consortium = factory.SubFactory(ConsortiumFactory)
    name = factory.Sequence(lambda n: f"Segment {n}")
    description = "Professionals moving into chip design"
    position = factory.Sequence(int)


class CampaignFactory(DjangoModelFactory):
    class Meta:
        model = qm.Campaign

    programme = factory.SubFactory(ProgrammeFactory)
    segment = factory.SubFactory(SegmentFactory, consortium=factory.SelfAttribute("..programme.consortium"))
    channel = "newsletter"
    name = factory.Sequence(lambda n: f"Campaign {n}")
    code = factory.Sequence(lambda n: f"campaign-{n}")


class PageVisitFactory(DjangoModelFactory):
    class Meta:
        model = qm.PageVisit

    programme = factory.SubFactory(ProgrammeFactory)
    campaign = None
    day = factory.LazyFunction(lambda: __import__("django.utils.timezone").utils.timezone.localdate())
    count = 1


# --- Quality: feedback ------------------------------------------------------------------------------------------

from quality.models import feedback as qf  # noqa: E402


class QuestionSetFactory(DjangoModelFactory):
    """An empty question set; ``quality.feedback.question_set_ensure`` makes one seeded with the defaults."""

    class Meta:
        model = qf.QuestionSet

    programme = factory.SubFactory(ProgrammeFactory)
    audience = "learner"


class QuestionFactory(DjangoModelFactory):
    class Meta:
        model = qf.Question

    question_set = factory.SubFactory(QuestionSetFactory)
    key = factory.Sequence(lambda n: f"q-{n}")
    theme = "teaching"
    kind = "likert"
    text = factory.Sequence(lambda n: f"Question {n} was answered well.")
    position = factory.Sequence(int)


class SurveyFactory(DjangoModelFactory):
    """An open learner survey of an edition that has ended (no questions: ``SurveyQuestionFactory`` adds them)."""

    class Meta:
        model = qf.Survey

    edition = factory.SubFactory(EditionFactory, starts_on=factory.LazyFunction(
        lambda: dt.date.today() - dt.timedelta(days=100)), ends_on=factory.LazyFunction(
        lambda: dt.date.today() - dt.timedelta(days=1)))
    programme = factory.SelfAttribute("edition.programme")
    audience = "learner"
    opened_at = factory.LazyFunction(lambda: __import__("django.utils.timezone").utils.timezone.now())
    closes_at = factory.LazyAttribute(lambda o: o.opened_at + dt.timedelta(days=21))


class SurveyQuestionFactory(DjangoModelFactory):
    class Meta:
        model = qf.SurveyQuestion

    survey = factory.SubFactory(SurveyFactory)
    key = factory.Sequence(lambda n: f"q-{n}")
    theme = "learning"
    kind = "likert"
    text = factory.Sequence(lambda n: f"Question {n} was answered well.")
    position = factory.Sequence(int)


class InvitationFactory(DjangoModelFactory):
    class Meta:
        model = qf.Invitation

    survey = factory.SubFactory(SurveyFactory)
    learner = factory.SubFactory(UserFactory)


class ResponseFactory(DjangoModelFactory):
    """A bare response row; ``quality.feedback.response_submit`` stores real ones (and marks the invitation)."""

    class Meta:
        model = qf.Response

    survey = factory.SubFactory(SurveyFactory)


class AnswerFactory(DjangoModelFactory):
    class Meta:
        model = qf.Answer

    response = factory.SubFactory(ResponseFactory)
    question = factory.LazyAttribute(lambda o: SurveyQuestionFactory(survey=o.response.survey))
    rating = 4


# --- Quality: sustainability ------------------------------------------------------------------------------------

from quality.models import sustainability as qs  # noqa: E402


def _now():
    return __import__("django.utils.timezone").utils.timezone.now()


class CommitmentFactory(DjangoModelFactory):
    """A proposed money commitment of the programme's lead institution, 2027–2029 (``status="confirmed"`` or
    ``"withdrawn"`` sets the matching date)."""

    class Meta:
        model = qs.Commitment

    programme = factory.SubFactory(ProgrammeFactory)
    institution = factory.SelfAttribute("programme.lead_institution")
    first_year = 2027
    last_year = 2029
    kind = "money"
    amount = Decimal("5000.00")
    description = "Teaching and coordination"
    status = "proposed"
    confirmed_at = factory.LazyAttribute(lambda o: _now() if o.status == "confirmed" else None)
    withdrawn_at = factory.LazyAttribute(lambda o: _now() if o.status == "withdrawn" else None)


# --- Quality: reviews ----------------------------------------------------------------------------------------------

from quality.models import review as qr  # noqa: E402


class QualityReviewFactory(DjangoModelFactory):
    """A draft quality review of academic year 2025/26 (editions ending 2025-09-01 to 2026-08-31)."""

    class Meta:
        model = qr.QualityReview

    programme = factory.SubFactory(ProgrammeFactory)
    year = 2025

    class Params:
        #: Approved by the board, with its evidence frozen (as ``review_approve`` leaves it).
        approved = factory.Trait(
            status="approved",
            evidence=factory.LazyFunction(lambda: {"schema": 1}),
            evidence_frozen_at=factory.LazyFunction(lambda: __import__("django.utils.timezone").utils.timezone.now()),
            submitted_at=factory.SelfAttribute("evidence_frozen_at"),
            decided_at=factory.SelfAttribute("evidence_frozen_at"),
        )


class FindingFactory(DjangoModelFactory):
    class Meta:
        model = qr.Finding

    review = factory.SubFactory(QualityReviewFactory)
    kind = "weakness"
    theme = "assessment"
    text = factory.Sequence(lambda n: f"Finding {n}: the pass rate of one course is low")


class ReviewReportFactory(DjangoModelFactory):
    """A draft report being prepared (no file yet): ``quality.review`` renders it."""

    class Meta:
        model = qr.ReviewReport

    review = factory.SubFactory(QualityReviewFactory)
    content = factory.LazyFunction(dict)


class ImprovementActionFactory(DjangoModelFactory):
    class Meta:
        model = qr.ImprovementAction

    review = factory.SubFactory(QualityReviewFactory)
    title = factory.Sequence(lambda n: f"Improvement action {n}")
    owner = "Programme team leader"
    due_on = factory.LazyFunction(lambda: dt.date.today() + dt.timedelta(days=90))
