"""Standard identifiers (ESI) and partners' external ids."""

import uuid

import django.db.models.deletion
import django.db.models.functions.text
from django.db import migrations, models

import consortium.identifiers


class Migration(migrations.Migration):
    dependencies = [("consortium", "0007_idempotency")]
    operations = [
        # Institutions: the Erasmus and SCHAC codes are checked by their published format.
        migrations.AlterField(
            model_name="institution",
            name="erasmus_code",
            field=models.CharField(blank=True, max_length=20, validators=[consortium.identifiers.validate_erasmus_code],
                                   verbose_name="Erasmus code"),
        ),
        migrations.AlterField(
            model_name="institution",
            name="schac_code",
            field=models.CharField(blank=True, max_length=128, validators=[consortium.identifiers.validate_schac_code],
                                   verbose_name="SCHAC home organisation"),
        ),
        # The learner's European Student Identifier, unique (case-insensitively) when given.
        migrations.AddField(
            model_name="user",
            name="esi",
            field=models.CharField(
                blank=True,
                help_text="Your European Student Identifier (ESI), if your university gave you one, e.g. "
                "urn:schac:personalUniqueCode:int:esi:es:12345678Z.",
                max_length=255,
                validators=[consortium.identifiers.validate_esi],
                verbose_name="European Student Identifier",
            ),
        ),
        migrations.AddConstraint(
            model_name="user",
            constraint=models.UniqueConstraint(
                django.db.models.functions.text.Lower("esi"),
                condition=models.Q(("esi", ""), _negated=True),
                name="user_esi_unique",
                violation_error_message="Another account already has this European Student Identifier.",
            ),
        ),
        # Partners' own ids for learners, enrolments and courses.
        migrations.CreateModel(
            name="ExternalId",
            fields=[
                ("id", models.UUIDField(default=uuid.uuid4, editable=False, primary_key=True, serialize=False)),
                ("created_at", models.DateTimeField(auto_now_add=True)),
                ("updated_at", models.DateTimeField(auto_now=True, db_index=True)),
                ("kind", models.CharField(
                    choices=[("learner", "Learner"), ("enrolment", "Enrolment"), ("course", "Course")],
                    max_length=16, verbose_name="kind")),
                ("object_id", models.UUIDField(verbose_name="record")),
                ("value", models.CharField(max_length=64, validators=[consortium.identifiers.validate_external_id],
                                           verbose_name="external id")),
                ("institution", models.ForeignKey(on_delete=django.db.models.deletion.CASCADE,
                                                  related_name="external_ids", to="consortium.institution")),
            ],
            options={
                "ordering": ["institution", "kind", "value"],
                "indexes": [models.Index(fields=["kind", "object_id"], name="external_id_object")],
                "constraints": [
                    models.UniqueConstraint(
                        fields=("institution", "kind", "value"),
                        name="external_id_value_unique",
                        violation_error_message="Your institution already uses this external id for another record.",
                    ),
                    models.UniqueConstraint(
                        fields=("institution", "kind", "object_id"),
                        name="external_id_one_per_record",
                        violation_error_message="This record already has an external id of your institution.",
                    ),
                ],
            },
        ),
    ]
