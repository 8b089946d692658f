"""``programmes.api.partnership_institution_ids`` and ``in_partnership``: the one answer to "is this institution the
lead or a partner of the programme?" (the quality app's commitments, improvement actions and forms use it)."""

import pytest

from programmes.api import in_partnership, partnership_institution_ids

from ..factories import ProgrammeFactory, ProgrammePartnerFactory

pytestmark = pytest.mark.django_db


def test_the_lead_partners_and_associated_partners_and_no_one_else(world):
    programme = ProgrammeFactory(consortium=world.ca, lead_institution=world.ua)
    ProgrammePartnerFactory(programme=programme, institution=world.ub, role="partner")
    ProgrammePartnerFactory(programme=programme, institution=world.ea, role="associated")
    ProgrammePartnerFactory(programme=ProgrammeFactory(consortium=world.ca, lead_institution=world.ub),
                            institution=world.uc, role="partner")  # another programme's partner
    assert partnership_institution_ids(programme) == {world.ua.pk, world.ub.pk, world.ea.pk}
    for institution in (world.ua, world.ub, world.ea):
        assert in_partnership(programme, institution) and in_partnership(programme, institution.pk)
    assert not in_partnership(programme, world.uc) and not in_partnership(programme, None)
    programme.partners.filter(institution=world.ub).delete()  # UB leaves
    assert not in_partnership(programme, world.ub)
    assert partnership_institution_ids(programme) == {world.ua.pk, world.ea.pk}


def test_a_lead_without_a_partner_row_is_in_the_partnership(world):
    programme = ProgrammeFactory(consortium=world.ca, lead_institution=world.ua)
    programme.partners.all().delete()  # the lead's own row (the factory adds it) is not needed
    assert partnership_institution_ids(programme) == {world.ua.pk}
    assert in_partnership(programme, world.ua)
