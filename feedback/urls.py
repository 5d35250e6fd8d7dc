from django.urls import path

from . import views

app_name = "feedback"
urlpatterns = [
    path("feedback", views.submit_feedback, name="submit"),
    path("feedback/word", views.submit_word_feedback, name="submit_word"),
    path("review/", views.review_page, name="review"),
    path("review/items", views.review_items, name="review_items"),
    path("review/decide", views.review_decide, name="review_decide"),
    path("review/undo", views.review_undo, name="review_undo"),
    path("review/image/<uuid:sample_id>/<int:size>", views.sample_image, name="sample_image"),
    path("review/word-image/<uuid:word_id>/<int:size>", views.word_image, name="word_image"),
]
