from django.apps import AppConfig


class RecognitionConfig(AppConfig):
    name = "recognition"

    def ready(self):
        from recognition import checks  # noqa: F401  (registers the start-up checks)
