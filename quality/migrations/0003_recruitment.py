from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("quality", "0002_feedback")]
    operations: list = []
