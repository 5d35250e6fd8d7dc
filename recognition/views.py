"""Pages and the form/canvas endpoints; the work is done by recognition.services."""
from functools import wraps

from django.http import JsonResponse
from django.shortcuts import render

from ml.kinds import KINDS, LABELS
from recognition import forms
from recognition.models import Sample
from recognition.services import RecognitionError


def json_post(view):
    """POST-only JSON endpoint: the view returns a dict, refusals become {"error": ...}."""

    @wraps(view)
    def wrapper(request):
        if request.method != "POST":
            return JsonResponse({"error": "use POST"}, status=405, headers={"Allow": "POST"})
        try:
            return JsonResponse(view(request))
        except RecognitionError as error:
            return JsonResponse({"error": str(error)}, status=error.status)

    return wrapper


def render_kinds_page(request, template):
    """Render a page that offers the kinds to write (digit, letter, any) with their labels."""
    labels = {kind: "".join(LABELS[kind]) for kind in KINDS}
    return render(request, template, {"kinds": KINDS, "labels": labels})


def home(request):
    return render_kinds_page(request, "recognition/home.html")


def draw(request):
    return render_kinds_page(request, "recognition/draw.html")


def upload_page(request):
    return render_kinds_page(request, "recognition/upload.html")


@json_post
def submit(request):
    return forms.read_drawing(request).recognize(Sample.Source.CANVAS)


@json_post
def upload(request):
    return forms.read_upload(request).recognize(Sample.Source.UPLOAD)
