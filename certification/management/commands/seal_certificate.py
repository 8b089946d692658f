"""Create (when missing) an institution's self-signed demo PDF seal certificate and print its subject and
SHA-256 fingerprint. Production seals are configured with ``settings.SEAL_FILES`` instead (docs/credentials.md)."""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from certification.vc import seal
from consortium.api import Institution


class Command(BaseCommand):
    help = "Create the institution's demo PDF seal certificate (self-signed) and print subject and fingerprint."

    def add_arguments(self, parser):
        parser.add_argument("--institution", required=True, help="Short name of the institution.")

    def handle(self, *args, institution, **options):
        found = Institution.objects.filter(short_name=institution).first()
        if found is None:
            raise CommandError(f"No institution with short name {institution!r}.")
        if found.short_name in (getattr(settings, "SEAL_FILES", {}) or {}):
            _key, cert_path = seal.seal_files(found)
            self.stdout.write(f"Configured seal (SEAL_FILES): {cert_path}")
        else:
            existed = all(p.exists() for p in seal.demo_seal_paths(found))
            _key, cert_path = seal.ensure_demo_seal(found)
            self.stdout.write(("Demo seal already present: " if existed else "Created demo seal: ") + str(cert_path))
        cert = seal.load_certificate(cert_path)
        self.stdout.write(f"subject: {cert.subject.rfc4514_string()}")
        self.stdout.write(f"SHA-256 fingerprint: {seal.fingerprint(cert)}")
        self.stdout.write(f"valid until: {cert.not_valid_after_utc.isoformat()}")
