"""Table-driven: role × scope × owner × action. Each row says who may do what to whose object."""

import pytest

from consortium import policy
from consortium.models import Agreement, AgreementVersion, ApiToken, Consortium, Institution
from consortium.policy import ServicePrincipal

from ..factories import AgreementFactory, AgreementPartyFactory, AgreementVersionFactory, ApiTokenFactory


def _objects(w):
    agreement_a = AgreementFactory(consortium=w.ca)
    version_a = AgreementVersionFactory(agreement=agreement_a)
    party_ub = AgreementPartyFactory(version=version_a, institution=w.ub)
    agreement_b = AgreementFactory(consortium=w.cb)
    return {
        "UA": w.ua,
        "UB": w.ub,
        "UC": w.uc,
        "EA": w.ea,
        "CA": w.ca,
        "CB": w.cb,
        "agreement_A": agreement_a,
        "agreement_B": agreement_b,
        "version_A": version_a,
        "party_UB": party_ub,
        "token_UA": ApiTokenFactory(institution=w.ua),
        "token_UB": ApiTokenFactory(institution=w.ub),
    }


# (who, action, object, allowed)
TABLE = [
    # Institutions: the joint profile is visible to staff; private data to own staff and consortium admins.
    ("UA_staff", "institution.view", "UC", True),
    ("learner", "institution.view", "UA", False),
    ("UA_staff", "institution.view_private", "UA", True),
    ("UB_staff", "institution.view_private", "UA", False),
    ("CA_admin", "institution.view_private", "UB", True),
    ("CA_admin", "institution.view_private", "UC", False),
    ("UA_admin", "institution.change", "UA", True),
    ("UA_admin", "institution.change", "UB", False),
    ("UA_students", "institution.change", "UA", False),
    ("CA_admin", "institution.change", "UB", True),
    ("CA_admin", "institution.change", "UC", False),
    ("CA_admin", "institution.create", None, True),
    ("UA_admin", "institution.create", None, False),
    # Consortia: members see them; consortium admins change them; only superusers create them.
    ("UB_staff", "consortium.view", "CA", True),
    ("UC_staff", "consortium.view", "CA", False),
    ("UC_admin", "consortium.view", "CB", True),
    ("CA_admin", "consortium.change", "CA", True),
    ("CA_admin", "consortium.change", "CB", False),
    ("UA_admin", "consortium.change", "CA", False),
    ("CA_admin", "consortium.create", None, False),
    ("superuser", "consortium.create", None, True),
    ("CA_admin", "membership.manage", "CA", True),
    ("UA_admin", "membership.manage", "CA", False),
    # Agreements: visible to consortium members, managed by its administrators, signed per party.
    ("UB_students", "agreement.view", "agreement_A", True),
    ("UC_admin", "agreement.view", "agreement_A", False),
    ("UA_staff", "agreement.view", "agreement_B", False),
    ("CA_admin", "agreement.manage", "agreement_A", True),
    ("CA_admin", "agreement.manage", "agreement_B", False),
    ("UA_admin", "agreement.manage", "agreement_A", False),
    ("UB_admin", "agreement.sign", "party_UB", True),
    ("UA_admin", "agreement.sign", "party_UB", False),
    ("CA_admin", "agreement.sign", "party_UB", True),
    ("UB_staff", "agreement.sign", "party_UB", False),
    # API tokens and staff: private to the institution, managed by its administrators.
    ("UA_admin", "apitoken.manage", "token_UA", True),
    ("UA_admin", "apitoken.manage", "token_UB", False),
    ("CA_admin", "apitoken.manage", "token_UA", False),
    ("UA_students", "apitoken.manage", "token_UA", False),
    ("UA_admin", "staff.manage", "UA", True),
    ("UA_admin", "staff.manage", "UB", False),
    # Unknown actions are refused (deny by default), even for plausible users.
    ("CA_admin", "institution.delete", "UA", False),
    ("superuser", "anything.at_all", "UA", False),  # an action nobody declared does not exist
]


@pytest.mark.parametrize(("who", "action", "target", "allowed"), TABLE, ids=[f"{w}-{a}-{t}" for w, a, t, _ in TABLE])
def test_policy_table(world, who, action, target, allowed):
    objects = _objects(world)
    obj = objects[target] if target else None
    assert policy.can(world.people[who], action, obj) is allowed


def test_anonymous_is_refused_everything_but_public(world):
    from django.contrib.auth.models import AnonymousUser

    anonymous = AnonymousUser()
    assert policy.can(anonymous, policy.PUBLIC)
    assert not policy.can(anonymous, policy.AUTHENTICATED)
    for action in policy.registered_actions():
        assert not policy.can(anonymous, action, world.ua), action


# Partner systems: a token acts for its institution, within its scopes.
TOKEN_TABLE = [
    ("UA", ["consortia:read"], "consortium.view", "CA", True),
    ("UA", ["consortia:read"], "consortium.view", "CB", False),
    ("UA", ["institutions:read"], "consortium.view", "CA", False),  # scope missing
    ("UA", ["institutions:write"], "institution.change", "UA", True),
    ("UA", ["institutions:write"], "institution.change", "UB", False),
    ("UA", ["institutions:read"], "institution.change", "UA", False),
    ("UA", ["agreements:read", "agreements:write"], "agreement.manage", "agreement_A", False),  # not an admin
    ("UC", ["agreements:read"], "agreement.view", "agreement_A", False),
    ("UB", ["agreements:read"], "agreement.view", "agreement_A", True),
    ("UA", ["institutions:read"], "apitoken.manage", "token_UA", False),  # no scope grants this
]


@pytest.mark.parametrize(("institution", "scopes", "action", "target", "allowed"), TOKEN_TABLE)
def test_token_policy_table(world, institution, scopes, action, target, allowed):
    objects = _objects(world)
    token = ApiTokenFactory(institution=objects[institution], scopes=scopes)
    assert policy.can(ServicePrincipal(token), action, objects[target]) is allowed


LIST_TABLE = [
    ("UA_staff", "consortium.view", Consortium, {"CA"}),
    ("UC_staff", "consortium.view", Consortium, {"CB"}),
    ("superuser", "consortium.view", Consortium, {"CA", "CB"}),
    ("learner", "consortium.view", Consortium, set()),
    ("UA_admin", "apitoken.manage", ApiToken, {"token_UA"}),
    ("UC_admin", "agreement.view", Agreement, {"agreement_B"}),
    ("UB_staff", "agreement.view", Agreement, {"agreement_A"}),
    ("UB_staff", "agreement.view", AgreementVersion, {"version_A"}),
]


@pytest.mark.parametrize(("who", "action", "model", "expected"), LIST_TABLE)
def test_list_filters(world, who, action, model, expected):
    objects = _objects(world)
    ids = set(policy.filter(world.people[who], action, model.objects.all()).values_list("pk", flat=True))
    # Only compare against the objects this table names (factories may create others).
    named = {k: v.pk for k, v in objects.items() if isinstance(v, model)}
    assert {k for k, pk in named.items() if pk in ids} == expected


def test_filter_of_unknown_action_is_empty(world):
    assert not policy.filter(world.people["CA_admin"], "no.such.action", Institution.objects.all()).exists()


def test_actor_is_cached_per_user_object(world, django_assert_num_queries):
    user = world.people["UA_admin"]
    policy.can(user, "apitoken.manage", world.ua)
    with django_assert_num_queries(0):
        for _ in range(5):
            policy.can(user, "apitoken.manage", world.ua)
