from django.db import migrations


class Migration(migrations.Migration):
    """Quality reviews (D8): reviews, findings, improvement actions."""

    dependencies = [
        ('quality', '0003_recruitment'),
    ]

    operations = []
