from django.urls import path

from recognition import views

app_name = "recognition"
urlpatterns = [
    path("", views.home, name="home"),
    path("draw/", views.draw, name="draw"),
    path("upload/", views.upload_page, name="upload-page"),
    path("submit", views.submit, name="submit"),
    path("upload", views.upload, name="upload"),
]
