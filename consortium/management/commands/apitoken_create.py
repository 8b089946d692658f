"""Create an API token for a partner system and print the key once (it is stored hashed)."""

import datetime as dt

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from consortium import policy, services
from consortium.errors import DomainError
from consortium.models import Institution


class Command(BaseCommand):
    help = "Create a scoped, expiring API token for an institution; prints the key once."

    def add_arguments(self, parser):
        parser.add_argument("--institution", required=True, help="Short name or SCHAC code of the institution")
        parser.add_argument("--name", required=True, help="What the token is for, e.g. 'student information system'")
        parser.add_argument(
            "--scope",
            action="append",
            dest="scopes",
            default=[],
            help=f"Repeat for each scope. Known: {', '.join(policy.api_scopes())}",
        )
        parser.add_argument("--days", type=int, default=365, help="Days until the token expires (default 365)")

    def handle(self, *args, institution, name, scopes, days, **options):
        found = (
            Institution.objects.filter(short_name=institution).first()
            or Institution.objects.filter(schac_code=institution).first()
        )
        if found is None:
            raise CommandError(f"No institution called {institution!r}.")
        try:
            token, key = services.apitoken_create(
                actor=None,
                institution=found,
                name=name,
                scopes=scopes,
                expires_at=timezone.now() + dt.timedelta(days=days),
                check_policy=False,
            )
        except DomainError as exc:
            raise CommandError(exc.message) from exc
        self.stdout.write(
            f"Token {token.name!r} for {found.short_name}, scopes {', '.join(token.scopes)}, "
            f"expires {token.expires_at:%Y-%m-%d}."
        )
        self.stdout.write("Key (shown once):")
        self.stdout.write(key)
