"""Sample and Word are recognition's models now (recognition 0001): feedback's foreign keys point
there and feedback forgets them. State only: the columns already reference the same tables."""
import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("feedback", "0008_word_review_and_sync"),
        ("recognition", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[],
            state_operations=[
                migrations.AlterField(
                    model_name='feedback',
                    name='sample',
                    field=models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, primary_key=True, related_name='feedback', serialize=False, to='recognition.sample'),
                ),
                migrations.AlterField(
                    model_name='reviewdecision',
                    name='sample',
                    field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='review_decisions', to='recognition.sample'),
                ),
                migrations.AlterField(
                    model_name='goldlabel',
                    name='sample',
                    field=models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, primary_key=True, related_name='gold', serialize=False, to='recognition.sample'),
                ),
                migrations.AlterField(
                    model_name='thumbnail',
                    name='sample',
                    field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='thumbnails', to='recognition.sample'),
                ),
                migrations.AlterField(
                    model_name='wordthumbnail',
                    name='word',
                    field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='thumbnails', to='recognition.word'),
                ),
                migrations.AlterField(
                    model_name='wordfeedback',
                    name='word',
                    field=models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, primary_key=True, related_name='feedback', serialize=False, to='recognition.word'),
                ),
                migrations.AlterField(
                    model_name='wordreviewdecision',
                    name='word',
                    field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='review_decisions', to='recognition.word'),
                ),
                migrations.DeleteModel(
                    name='Sample',
                ),
                migrations.DeleteModel(
                    name='Word',
                ),
            ],
        ),
    ]
