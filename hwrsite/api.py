"""The JSON API (/api/v1/): one NinjaAPI, validated by pydantic schemas, documented by OpenAPI."""
from django.conf import settings
from ninja import NinjaAPI
from ninja.errors import Throttled
from ninja.throttling import AnonRateThrottle

from feedback.api import router as feedback_router

from recognition.api import router as recognition_router
from recognition.services import RecognitionError

api = NinjaAPI(
    title="hwr handwriting recognition API",
    version="1.0.0",
    description="Recognise handwritten digits and letters, and tell us when we were wrong.",
    urls_namespace="api",
    # Per client address, counted in the default cache (share it between workers: CACHE_URL).
    throttle=[AnonRateThrottle(settings.HWR_API_RATE_LIMIT)] if settings.HWR_API_RATE_LIMIT else [],
)


@api.exception_handler(Throttled)
def throttled(request, error):
    wait = f" in {error.wait} s" if error.wait else " later"
    response = api.create_response(
        request, {"error": f"too many requests: try again{wait}"}, status=429
    )
    if error.wait:
        response["Retry-After"] = str(error.wait)
    return response


@api.exception_handler(RecognitionError)
def recognition_error(request, error):
    return api.create_response(request, {"error": str(error)}, status=error.status)


api.add_router("/", recognition_router)
api.add_router("/", feedback_router)
