"""`make bench`: benchmarks print figures here as capabilities land (certificate rendering, API load)."""

from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Run the benchmarks and print their figures."

    def handle(self, *args, **options):
        self.stdout.write(
            "No benchmarks yet: certificate rendering and API load benchmarks arrive with the "
            "certification capability (see docs/performance.md)."
        )
