from django.apps import AppConfig


class FeedbackConfig(AppConfig):
    name = "feedback"

    def ready(self):
        from ml import feedback_source

        feedback_source.register(feedback_source.CHARACTERS, "feedback.training.load_feedback")
        feedback_source.register(feedback_source.TEXT, "feedback.training.load_word_feedback")
