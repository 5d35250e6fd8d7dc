"""Sample and Word, whose tables the feedback app created, become recognition's models.

State only: the tables (`feedback_sample`, `feedback_word`) and their rows stay as they are, and
feedback's 0009 points its foreign keys here. Their content types are renamed in place, so the
permissions granted on them and the admin's history keep pointing at them.
"""
import uuid

import django.db.models.deletion
from django.db import migrations, models

MOVED_MODELS = ["sample", "word"]


def rename_content_types(from_app, to_app):
    def rename(apps, schema_editor):
        ContentType = apps.get_model("contenttypes", "ContentType")
        db = schema_editor.connection.alias
        taken = set(ContentType.objects.using(db).filter(app_label=to_app, model__in=MOVED_MODELS)
                    .values_list("model", flat=True))
        (ContentType.objects.using(db)
         .filter(app_label=from_app, model__in=[model for model in MOVED_MODELS if model not in taken])
         .update(app_label=to_app))

    return rename


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ("contenttypes", "0002_remove_content_type_name"),
        ("feedback", "0008_word_review_and_sync"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[],
            state_operations=[
                migrations.CreateModel(
                    name='Word',
                    fields=[
                        ('id', models.UUIDField(default=uuid.uuid4, editable=False, primary_key=True, serialize=False)),
                        ('kind', models.CharField(choices=[('digit', 'digit'), ('letter', 'letter'), ('any', 'any')], max_length=8)),
                        ('source', models.CharField(max_length=8)),
                        ('image', models.FileField(max_length=200, upload_to='words/%Y/%m/%d/')),
                        ('image_sha256', models.CharField(max_length=64)),
                        ('strokes', models.JSONField(blank=True, help_text='the pen strokes, when sent', null=True)),
                        ('text', models.CharField(max_length=64)),
                        ('candidates', models.JSONField(blank=True, default=list, help_text="the text model's likeliest readings with their share")),
                        ('model_name', models.CharField(blank=True, help_text='the model that read it', max_length=16)),
                        ('model_version', models.CharField(blank=True, max_length=64)),
                        ('case_consistency', models.BooleanField(default=False)),
                        ('created', models.DateTimeField(auto_now_add=True, db_index=True)),
                    ],
                    options={
                        'db_table': 'feedback_word',
                        'ordering': ['-created'],
                    },
                ),
                migrations.CreateModel(
                    name='Sample',
                    fields=[
                        ('id', models.UUIDField(default=uuid.uuid4, editable=False, primary_key=True, serialize=False)),
                        ('kind', models.CharField(choices=[('digit', 'digit'), ('letter', 'letter'), ('any', 'any')], max_length=8)),
                        ('source', models.CharField(choices=[('canvas', 'Canvas'), ('upload', 'Upload'), ('api', 'Api')], max_length=8)),
                        ('image', models.FileField(max_length=200, upload_to='samples/%Y/%m/%d/')),
                        ('image_sha256', models.CharField(max_length=64)),
                        ('normalized_png', models.BinaryField(help_text='the 28x28 image the model saw, as PNG')),
                        ('predicted_label', models.CharField(max_length=1)),
                        ('confidence', models.FloatField()),
                        ('top5', models.JSONField(default=list)),
                        ('model_name', models.CharField(max_length=16)),
                        ('model_version', models.CharField(max_length=64)),
                        ('created', models.DateTimeField(auto_now_add=True, db_index=True)),
                        ('position', models.PositiveSmallIntegerField(blank=True, help_text='index in the word', null=True)),
                        ('box', models.JSONField(blank=True, help_text="[left, top, right, bottom] in the word's image or strokes", null=True)),
                        ('prompt', models.CharField(blank=True, help_text='the character a challenge asked for (a prompted sample)', max_length=1)),
                        ('margin', models.FloatField(blank=True, db_index=True, help_text="top-1 minus top-2 probability (the review queue's uncertainty order: lowest first)", null=True)),
                        ('word', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='characters', to='recognition.word')),
                    ],
                    options={
                        'db_table': 'feedback_sample',
                        'ordering': ['-created'],
                    },
                ),
            ],
        ),
        migrations.RunPython(rename_content_types("feedback", "recognition"),
                             rename_content_types("recognition", "feedback")),
    ]
