"""Request bodies of the recognition routes: a drawing as JSON, or an uploaded image file.

Both readers return a services.PredictionRequest and turn every malformed body into a
RecognitionError, so the page routes and the API refuse bad input with the same messages.
"""
import math
from typing import Optional

from django import forms
from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.http.multipartparser import MultiPartParserError
from pydantic import BaseModel, Field, ValidationError

from ml.kinds import KINDS
from recognition.services import PredictionRequest, RecognitionError, check_size, decode_data_url

KIND_SCHEMA = {"enum": list(KINDS), "default": "digit"}


class DrawingIn(BaseModel):
    """A drawing as the canvas page sends it."""

    image: str = Field(description="the image as a data URL: data:image/png;base64,...")
    kind: str = Field("digit", json_schema_extra=KIND_SCHEMA)
    multi: bool = Field(False, description="several characters in a row: answer with text and characters")
    strokes: Optional[list[list[list[float]]]] = Field(
        None, description="multi only: the pen strokes, each a list of [x, y] or [x, y, t] points "
                          "(y down, in any unit; the canvas page sends pixels of the image)")
    case_consistency: bool = Field(
        False, description="multi, letter and any only: one case pattern per word (hello, Hello, HELLO)")
    crop: Optional[list[float]] = Field(
        None, min_length=4, max_length=4,
        description="where the writing is: [left, top, right, bottom] in the image's pixels; "
                    "only that part is read (without it the writing is found in the picture)")
    preview: bool = Field(
        False, description="a live preview while drawing: the same answer, but nothing is stored "
                           "(no sample_id or word_id); send the drawing again without it to keep it")


class UploadForm(forms.Form):
    """An image file as the upload page (or an API client) sends it, multipart-encoded."""

    image = forms.FileField(error_messages={
        "required": "no image was sent: choose a photo or a scan of handwriting",
        "empty": "the chosen file is empty: choose another image",
        "invalid": "no image file was sent: choose a photo or a scan of handwriting",
    })
    kind = forms.CharField(required=False)
    multi = forms.BooleanField(required=False)
    case_consistency = forms.BooleanField(required=False)
    crop = forms.CharField(required=False, max_length=200)


UPLOAD_SCHEMA = {
    "type": "object",
    "required": ["image"],
    "properties": {
        "image": {"type": "string", "format": "binary", "description": "PNG, JPEG, WebP, BMP or GIF"},
        "kind": {"type": "string", **KIND_SCHEMA},
        "multi": {"type": "boolean", "default": False,
                  "description": "several characters in a row, split by connected components "
                                 "(touching ones cut where the model reads the parts best)"},
        "case_consistency": {"type": "boolean", "default": False},
        "crop": {"type": "string", "example": "120,80,360,300",
                 "description": "where the writing is: left,top,right,bottom in the image's "
                                "pixels; only that part is read"},
    },
}


def read_drawing(request):
    body = _read(lambda: request.body)
    try:
        drawing = DrawingIn.model_validate_json(body)
    except ValidationError as error:
        raise RecognitionError(f"invalid JSON body: {_describe(error)}") from error
    if drawing.strokes is not None and not drawing.multi:
        raise RecognitionError("strokes are only read with multi: true")
    return PredictionRequest(decode_data_url(drawing.image), drawing.kind, drawing.multi,
                             drawing.strokes, drawing.case_consistency, check_crop(drawing.crop),
                             store=not drawing.preview)


def read_upload(request):
    form = _read(lambda: UploadForm(request.POST, request.FILES))
    if not form.is_valid():
        problems = "; ".join(" ".join(errors) if field == "image" else f"{field}: {' '.join(errors)}"
                             for field, errors in form.errors.items())
        raise RecognitionError(problems)
    upload = form.cleaned_data["image"]
    check_size(upload.size)
    crop = form.cleaned_data["crop"]
    return PredictionRequest(upload.read(), form.cleaned_data["kind"] or "digit",
                             form.cleaned_data["multi"],
                             case_consistency=form.cleaned_data["case_consistency"],
                             crop=check_crop(_numbers(crop)) if crop else None)


def _numbers(text):
    """'120,80,360,300' -> [120.0, 80.0, 360.0, 300.0]; [] when any part is not a number."""
    try:
        return [float(value) for value in text.split(",")]
    except ValueError:
        return []


def check_crop(crop):
    """A crop box as four finite numbers, left < right and top < bottom, else a clear error."""
    if crop is None:
        return None
    if (len(crop) != 4 or not all(isinstance(v, float) and math.isfinite(v) for v in crop)
            or crop[0] >= crop[2] or crop[1] >= crop[3]):
        raise RecognitionError("crop must be four numbers: left, top, right, bottom of the box "
                               "around the writing, in the image's pixels (left < right, top < bottom)")
    return crop


def _read(parse):
    """Run Django's body parsing, turning its own refusals into JSON-friendly errors."""
    try:
        return parse()
    except RequestDataTooBig as error:
        raise RecognitionError(
            "the request is too large to read: send a smaller image", status=413) from error
    except (SuspiciousOperation, MultiPartParserError) as error:
        raise RecognitionError(f"malformed request body: {error}") from error


def _describe(error):
    return "; ".join(
        f"{'.'.join(str(part) for part in problem['loc']) or 'body'}: {problem['msg']}"
        for problem in error.errors()
    )
