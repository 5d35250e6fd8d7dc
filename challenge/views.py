"""The challenge page and its two JSON endpoints; the work is done by challenge.services.

The challenge's state travels in the X-Challenge header (the token the last answer gave), not
in a session: anonymous play stores nothing on the server but the drawings.
"""
from recognition import forms
from recognition.views import json_post, render_kinds_page

from . import services

TOKEN_HEADER = "X-Challenge"


def page(request):
    return render_kinds_page(request, "challenge/page.html")


@json_post
def next_prompt(request):
    """POST /challenge/next?kind=letter: the character to draw now, with the progress so far
    and the token to send with the drawing."""
    return services.start(request.headers.get(TOKEN_HEADER, ""), request.GET.get("kind", "digit"))


@json_post
def answer(request):
    """POST /challenge/answer {"image": data URL}, with the prompt's token: the score, and the
    next character."""
    return services.answer(request.headers.get(TOKEN_HEADER, ""), forms.read_drawing(request).image)
