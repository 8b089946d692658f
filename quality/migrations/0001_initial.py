from django.db import migrations


class Migration(migrations.Migration):
    """The app's first migration: nothing yet (the feedback and recruitment models follow in 0002 and 0003)."""

    initial = True
    dependencies: list = []
    operations: list = []
