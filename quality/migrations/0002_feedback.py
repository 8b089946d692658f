from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("quality", "0001_initial")]
    operations: list = []
