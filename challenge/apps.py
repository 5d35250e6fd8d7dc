from django.apps import AppConfig


class ChallengeConfig(AppConfig):
    name = "challenge"
    verbose_name = "challenge mode"
