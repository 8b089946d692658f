from django.db import migrations


class Migration(migrations.Migration):
    """Sustainability (D10): partners' multi-year commitments."""

    dependencies = [
        ('quality', '0004_review'),
    ]

    operations = []
