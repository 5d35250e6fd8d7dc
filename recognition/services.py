"""Recognition: image bytes + kind -> prediction, recorded as a feedback.Sample.

Every route (canvas, upload form, JSON API) calls `recognize`, so they all decode, normalise,
infer and record the same way.
"""
import base64
import binascii
import hashlib
import io

from django.conf import settings
from django.core.files.base import ContentFile
from PIL import Image

from feedback.models import Sample
from recognition.inference import ModelUnavailable, get_recognizer
from recognition.kinds import KINDS
from recognition.preprocessing import PreprocessingError, preprocess_bytes, to_png

TOP_K = 5


class RecognitionError(Exception):
    """A request the service refuses; `status` is the HTTP status and the message is shown."""

    status = 400

    def __init__(self, message, status=None):
        super().__init__(message)
        if status is not None:
            self.status = status


def check_kind(kind):
    if kind not in KINDS:
        raise RecognitionError(f"unknown kind {kind!r}: choose one of {', '.join(KINDS)}")


def decode_data_url(data_url):
    """'data:image/png;base64,....' -> the image bytes (what a canvas's toDataURL gives)."""
    header, comma, payload = data_url.partition(",")
    if not comma or not header.startswith("data:") or not header.endswith(";base64"):
        raise RecognitionError("image must be a data URL like 'data:image/png;base64,...'")
    try:
        return base64.b64decode(payload, validate=True)
    except (binascii.Error, ValueError) as error:
        raise RecognitionError("image data URL holds invalid base64") from error


def check_size(size):
    """Bodies are limited by middleware; this also covers bytes that arrive another way."""
    limit = settings.HWR_MAX_UPLOAD_BYTES
    if size > limit:
        raise RecognitionError(f"image is larger than {limit:,} bytes", status=413)


def predict(data, kind):
    """Image bytes + kind -> (normalised 28x28 image, result dict without storage)."""
    check_kind(kind)
    check_size(len(data))
    try:
        image28 = preprocess_bytes(data, max_pixels=settings.HWR_MAX_IMAGE_PIXELS)
    except PreprocessingError as error:
        raise RecognitionError(str(error)) from error
    try:
        recognizer = get_recognizer(kind)
    except ModelUnavailable as error:
        raise RecognitionError(str(error), status=503) from error
    probabilities = recognizer.probabilities(image28)
    ranked = probabilities.argsort()[::-1][:TOP_K]
    top5 = [
        {"label": recognizer.labels[i], "probability": round(float(probabilities[i]), 6)}
        for i in ranked
    ]
    result = {
        "kind": kind,
        "label": top5[0]["label"],
        "confidence": top5[0]["probability"],
        "top5": top5,
        "model": {"name": recognizer.name, "version": recognizer.version},
    }
    if kind != "digit":
        result["case_insensitive"] = case_insensitive_best(recognizer.labels, probabilities)
    return image28, result


def case_insensitive_best(labels, probabilities):
    """Best guess when 'o' and 'O' count as one answer: their probabilities add up."""
    merged = {}
    for label, probability in zip(labels, probabilities):
        key = label.upper()
        merged[key] = merged.get(key, 0.0) + float(probability)
    label = max(merged, key=merged.get)
    return {"label": label, "probability": round(merged[label], 6)}


def recognize(data, kind, source):
    """The one entry point of every route: predict, store a Sample, return the result JSON.

    The routes run it outside the request transaction: decoding and inference take a few
    milliseconds of CPU, and holding a database transaction that long would serialise the
    workers on SQLite. The Sample is one INSERT, atomic by itself.
    """
    image28, result = predict(data, kind)
    normalized_png = to_png(image28)
    sample = Sample(
        kind=kind,
        source=source,
        image_sha256=hashlib.sha256(data).hexdigest(),
        normalized_png=normalized_png,
        predicted_label=result["label"],
        confidence=result["confidence"],
        top5=result["top5"],
        model_name=result["model"]["name"],
        model_version=result["model"]["version"],
    )
    sample.image.save(f"{sample.id}.{_extension(data)}", ContentFile(data), save=False)
    sample.save()
    return {
        **result,
        "normalized_image": "data:image/png;base64," + base64.b64encode(normalized_png).decode(),
        "sample_id": str(sample.id),
    }


def _extension(data):
    """File extension from the bytes themselves (never from a client-supplied name)."""
    with Image.open(io.BytesIO(data)) as image:
        return (image.format or "bin").lower()
