"""POST /api/v1/predict: the recognition service for API clients (CSRF-exempt, documented)."""
import uuid
from typing import Optional

from ninja import Router, Schema

from feedback.models import Sample
from recognition import forms
from recognition.services import recognize

router = Router(tags=["recognition"])
# Operations that run outside the request transaction (see recognition.services.recognize).
NON_ATOMIC_URL_NAMES = {"predict"}


class LabelProbability(Schema):
    label: str
    probability: float


class ModelInfo(Schema):
    name: str
    version: str


class PredictionOut(Schema):
    kind: str
    label: str
    confidence: float
    top5: list[LabelProbability]
    case_insensitive: Optional[LabelProbability] = None
    model: ModelInfo
    normalized_image: str
    sample_id: uuid.UUID


class ErrorOut(Schema):
    error: str


PREDICT_BODY = {
    "required": True,
    "content": {
        "application/json": {"schema": forms.DrawingIn.model_json_schema()},
        "multipart/form-data": {"schema": forms.UPLOAD_SCHEMA},
    },
}


@router.post(
    "/predict",
    response={200: PredictionOut, 400: ErrorOut, 413: ErrorOut, 503: ErrorOut},
    summary="Recognise a handwritten character",
    description=(
        "Send a JSON body `{\"image\": \"data:image/png;base64,...\", \"kind\": \"digit\"}` or a "
        "multipart form with an `image` file and `kind` (digit, letter or any). The answer holds "
        "the label, its confidence, the top 5, the 28x28 image the model saw and the `sample_id` "
        "to give feedback on."
    ),
    openapi_extra={"requestBody": PREDICT_BODY},
    url_name="predict",
)
def predict(request):
    if request.content_type == "multipart/form-data":
        image, kind = forms.read_upload(request)
    else:
        image, kind = forms.read_drawing(request)
    return recognize(image, kind, Sample.Source.API)
