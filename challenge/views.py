"""The challenge page and its two JSON endpoints; the work is done by challenge.services."""
from django.db import transaction

from recognition import forms
from recognition.views import _page, json_post

from . import services


def page(request):
    return _page(request, "challenge/page.html")


@json_post
def next_prompt(request):
    """POST /challenge/next?kind=letter: the character to draw now, with the session's progress."""
    return services.start(request.session, request.GET.get("kind", "digit"))


@transaction.non_atomic_requests  # see recognition.services.recognize
@json_post
def answer(request):
    """POST /challenge/answer {"image": data URL}: the score, and the next character."""
    return services.answer(request.session, forms.read_drawing(request).image)
