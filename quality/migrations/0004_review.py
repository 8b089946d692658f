import consortium.storage
import django.core.validators
import django.db.models.deletion
import uuid
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    """Quality reviews (D8): reviews, findings, improvement actions, review reports."""

    dependencies = [
        ('consortium', '0008_identifiers'),
        ('programmes', '0003_isced_f'),
        ('quality', '0003_recruitment'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='Finding',
            fields=[
                ('id', models.UUIDField(default=uuid.uuid4, editable=False, primary_key=True, serialize=False)),
                ('created_at', models.DateTimeField(auto_now_add=True)),
                ('updated_at', models.DateTimeField(auto_now=True, db_index=True)),
                ('kind', models.CharField(choices=[('strength', 'Strength'), ('weakness', 'Weakness'), ('risk', 'Risk')], max_length=12, verbose_name='kind')),
                ('theme', models.CharField(choices=[('learning', 'Quality of learning'), ('teaching', 'Teaching'), ('assessment', 'Assessment transparency'), ('workload', 'Workload against the stated ECTS'), ('support', 'Support'), ('accessibility', 'Accessibility'), ('information', 'Public information'), ('relevance', 'Relevance to the labour market'), ('general', 'General')], default='general', max_length=16, verbose_name='theme')),
                ('text', models.TextField(max_length=2000, verbose_name='finding')),
                ('position', models.PositiveSmallIntegerField(default=0)),
            ],
            options={
                'ordering': ['review', 'position', 'created_at'],
            },
        ),
        migrations.CreateModel(
            name='QualityReview',
            fields=[
                ('id', models.UUIDField(default=uuid.uuid4, editable=False, primary_key=True, serialize=False)),
                ('created_at', models.DateTimeField(auto_now_add=True)),
                ('updated_at', models.DateTimeField(auto_now=True, db_index=True)),
                ('year', models.PositiveSmallIntegerField(help_text='Its first calendar year: 2026 is 2026/27, the editions that end from 1 September 2026 to 31 August 2027.', validators=[django.core.validators.MinValueValidator(2000), django.core.validators.MaxValueValidator(2100)], verbose_name='academic year')),
                ('status', models.CharField(choices=[('draft', 'Draft'), ('submitted', 'Submitted to the programme board'), ('approved', 'Approved by the programme board'), ('returned', 'Returned with comments')], default='draft', max_length=12, verbose_name='status')),
                ('summary', models.TextField(blank=True, help_text="The team's reading of the evidence, for the programme board.", max_length=5000, verbose_name='summary and conclusions')),
                ('evidence', models.JSONField(blank=True, editable=False, null=True)),
                ('evidence_frozen_at', models.DateTimeField(blank=True, editable=False, null=True)),
                ('submitted_at', models.DateTimeField(blank=True, null=True)),
                ('decided_at', models.DateTimeField(blank=True, null=True)),
                ('board_comment', models.TextField(blank=True, max_length=2000, verbose_name='board comments')),
                ('decided_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
                ('programme', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='quality_reviews', to='programmes.programme')),
                ('submitted_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
            ],
            options={
                'ordering': ['programme', '-year'],
            },
        ),
        migrations.CreateModel(
            name='ImprovementAction',
            fields=[
                ('id', models.UUIDField(default=uuid.uuid4, editable=False, primary_key=True, serialize=False)),
                ('created_at', models.DateTimeField(auto_now_add=True)),
                ('updated_at', models.DateTimeField(auto_now=True, db_index=True)),
                ('title', models.CharField(max_length=255, verbose_name='action')),
                ('description', models.TextField(blank=True, max_length=2000, verbose_name='description')),
                ('owner', models.CharField(help_text="Who carries it out: a role or a person, e.g. 'Course coordinator CDF2'.", max_length=200, verbose_name='owner')),
                ('due_on', models.DateField(verbose_name='due on')),
                ('status', models.CharField(choices=[('planned', 'Planned'), ('in_progress', 'In progress'), ('done', 'Done'), ('dropped', 'Dropped')], default='planned', max_length=12, verbose_name='status')),
                ('started_at', models.DateTimeField(blank=True, null=True)),
                ('done_at', models.DateTimeField(blank=True, null=True)),
                ('dropped_at', models.DateTimeField(blank=True, null=True)),
                ('dropped_reason', models.TextField(blank=True, max_length=2000, verbose_name='why it was dropped')),
                ('position', models.PositiveSmallIntegerField(default=0)),
                ('finding', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='actions', to='quality.finding', verbose_name='finding it answers')),
                ('owner_institution', models.ForeignKey(blank=True, help_text='The lead or a partner of the programme.', null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='consortium.institution', verbose_name="owner's institution")),
                ('review', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='actions', to='quality.qualityreview')),
            ],
            options={
                'ordering': ['review', 'position', 'created_at'],
            },
        ),
        migrations.AddField(
            model_name='finding',
            name='review',
            field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='findings', to='quality.qualityreview'),
        ),
        migrations.CreateModel(
            name='ReviewReport',
            fields=[
                ('id', models.UUIDField(default=uuid.uuid4, editable=False, primary_key=True, serialize=False)),
                ('created_at', models.DateTimeField(auto_now_add=True)),
                ('updated_at', models.DateTimeField(auto_now=True, db_index=True)),
                ('final', models.BooleanField(default=False)),
                ('content', models.JSONField(editable=False)),
                ('status', models.CharField(choices=[('queued', 'Being prepared'), ('ready', 'Ready'), ('failed', 'Failed')], default='queued', max_length=8, verbose_name='status')),
                ('file', models.FileField(blank=True, storage=consortium.storage.private_storage, upload_to='quality/reviews/%Y/')),
                ('sha256', models.CharField(blank=True, max_length=64)),
                ('error', models.TextField(blank=True)),
                ('attempts', models.PositiveSmallIntegerField(default=0)),
                ('rendered_at', models.DateTimeField(blank=True, null=True)),
                ('requested_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
                ('review', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='reports', to='quality.qualityreview')),
            ],
            options={
                'ordering': ['review', '-created_at'],
            },
        ),
        migrations.AddConstraint(
            model_name='qualityreview',
            constraint=models.UniqueConstraint(fields=('programme', 'year'), name='quality_review_one_per_programme_and_year', violation_error_message='This programme already has a quality review for this academic year.'),
        ),
        migrations.AddConstraint(
            model_name='qualityreview',
            constraint=models.CheckConstraint(condition=models.Q(models.Q(('evidence__isnull', True), ('status__in', ['draft', 'returned'])), models.Q(('evidence__isnull', False), ('evidence_frozen_at__isnull', False), ('status__in', ['submitted', 'approved'])), _connector='OR'), name='quality_review_evidence_frozen_when_submitted'),
        ),
        migrations.AddConstraint(
            model_name='qualityreview',
            constraint=models.CheckConstraint(condition=models.Q(('year__gte', 2000), ('year__lte', 2100)), name='quality_review_year_range'),
        ),
        migrations.AddIndex(
            model_name='improvementaction',
            index=models.Index(fields=['status', 'due_on'], name='improvement_action_due'),
        ),
        migrations.AddConstraint(
            model_name='improvementaction',
            constraint=models.CheckConstraint(condition=models.Q(models.Q(('done_at__isnull', True), ('dropped_at__isnull', True), ('status', 'planned')), models.Q(('done_at__isnull', True), ('dropped_at__isnull', True), ('status', 'in_progress')), models.Q(('done_at__isnull', False), ('dropped_at__isnull', True), ('status', 'done')), models.Q(('done_at__isnull', True), ('dropped_at__isnull', False), ('status', 'dropped'), models.Q(('dropped_reason', ''), _negated=True)), _connector='OR'), name='improvement_action_status_dates'),
        ),
        migrations.AddConstraint(
            model_name='reviewreport',
            constraint=models.UniqueConstraint(condition=models.Q(('final', True)), fields=('review',), name='quality_review_one_final_report'),
        ),
    ]
