"""The JSON API (/api/v1/): one NinjaAPI, validated by pydantic schemas, documented by OpenAPI."""
from ninja import NinjaAPI

from feedback.api import router as feedback_router

from recognition.api import router as recognition_router
from recognition.services import RecognitionError

api = NinjaAPI(
    title="hwr handwriting recognition API",
    version="1.0.0",
    description=(
        "Recognise handwritten digits and letters, and tell us when we were wrong. POST requests "
        "are limited per client address (HWR_RATE_LIMIT, shared with the pages): past it the "
        "answer is 429 with a JSON `error` and a `Retry-After` header in seconds."
    ),
    urls_namespace="api",
)


@api.exception_handler(RecognitionError)
def recognition_error(request, error):
    return api.create_response(request, {"error": str(error)}, status=error.status)


api.add_router("/", recognition_router)
api.add_router("/", feedback_router)
