from django.urls import path

from . import views

app_name = "challenge"
urlpatterns = [
    path("challenge/", views.page, name="page"),
    path("challenge/next", views.next_prompt, name="next"),
    path("challenge/answer", views.answer, name="answer"),
]
