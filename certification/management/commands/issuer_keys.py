"""Generate (or rotate) an issuing institution's credential signing key. Prints the kid and public key only."""

import json

from django.core.management.base import BaseCommand, CommandError

from certification.vc import keys
from consortium.api import Institution


class Command(BaseCommand):
    help = "Generate the institution's Ed25519 credential signing key, or rotate it (--rotate)."

    def add_arguments(self, parser):
        parser.add_argument("--institution", required=True, help="Short name of the institution.")
        parser.add_argument("--rotate", action="store_true",
                            help="Retire the active key (it stays published) and generate a new one.")

    def handle(self, *args, institution, rotate, **options):
        found = Institution.objects.filter(short_name=institution).first()
        if found is None:
            raise CommandError(f"No institution with short name {institution!r}.")
        existing = keys.active_key(found)
        key = keys.rotate_key(found) if rotate else keys.ensure_key(found)
        if rotate and existing:
            self.stdout.write(f"Retired {existing.kid} (still published for verification).")
        elif existing and existing.pk == key.pk:
            self.stdout.write("Active key already present (use --rotate for a new one).")
        self.stdout.write(f"kid: {key.kid}")
        self.stdout.write(f"verification method: {keys.verification_method_id(key)}")
        self.stdout.write("public key (JWK): " + json.dumps(key.public_jwk))
