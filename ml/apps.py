from django.apps import AppConfig
from django.db.models.signals import post_migrate


class MlConfig(AppConfig):
    name = "ml"

    def ready(self):
        from ml.registry import register_bundled_models

        post_migrate.connect(register_bundled_models, sender=self)
