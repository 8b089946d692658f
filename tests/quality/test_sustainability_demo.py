"""The demo sustainability data (quality/demo/sustainability.py) goes through the commitment services: it seeds,
the dashboard shows what its docstring promises, and seeding again adds nothing."""

import io

import pytest
from django.conf import settings
from django.db import transaction
from django.test.utils import override_settings
from django.utils.module_loading import import_string

from programmes.api import Programme
from quality import sustainability
from quality.models import Commitment

pytestmark = pytest.mark.django_db


def test_the_demo_commitments_seed_and_show_their_warnings():
    from consortium.management.commands.seed_demo import Command
    from quality.demo import sustainability as demo

    with override_settings(EMAIL_BACKEND="django.core.mail.backends.dummy.EmailBackend"), transaction.atomic():
        context = Command(stdout=io.StringIO())._seed()["context"]
        for path in settings.DEMO_SEEDERS:
            if path != "quality.demo.seed":
                import_string(path)(context)
        lines = demo.seed(context)
        assert demo.seed(context) == ["Demo commitments already exist."]
    assert lines and lines[0].startswith("Sustainability: 6 commitments of the CDF partners")
    programme = Programme.objects.get(code="euchip-cdf")
    assert sorted(Commitment.objects.filter(programme=programme).values_list("status", flat=True)) == (
        ["confirmed"] * 5 + ["proposed"])
    dash = sustainability.dashboard(programme)
    assert dash.partners[0].short_name == "KU Leuven"  # the lead first
    assert ("ends_early", "UNED") in {(w.kind, w.institution and w.institution.short_name) for w in dash.warnings}
    assert any(row.proposed_money == 2500 for row in dash.rows)  # EuroChip's sponsorship, not yet counted
