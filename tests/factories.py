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


class InstitutionFactory(DjangoModelFactory):
    class Meta:
        model = models.Institution

    legal_name = factory.LazyAttribute(lambda o: f"University {o.short_name}")
    short_name = factory.Sequence(lambda n: f"U{n}")
    kind = "university"
    country = "BE"
    city = "Leuven"
    erasmus_code = factory.Sequence(lambda n: f"B  CITY{n:02d}")
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
    institution = None
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


class ApiTokenFactory(DjangoModelFactory):
    """A token row; use ``services.apitoken_create`` when the key is needed."""

    class Meta:
        model = models.ApiToken

    institution = factory.SubFactory(InstitutionFactory)
    name = factory.Sequence(lambda n: f"system {n}")
    prefix = factory.Sequence(lambda n: f"p{n:07d}")
    key_hash = factory.Sequence(lambda n: f"{n:064x}")
    scopes = factory.LazyFunction(lambda: ["institutions:read"])
    expires_at = factory.LazyFunction(lambda: __import__("django.utils.timezone").utils.timezone.now()
                                      + dt.timedelta(days=30))
