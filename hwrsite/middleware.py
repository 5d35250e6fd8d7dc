"""Project-wide request guards."""
from django.conf import settings
from django.http import JsonResponse


class BodySizeLimitMiddleware:
    """Refuse a body over HWR_MAX_UPLOAD_BYTES with 413 before anything reads it.

    Django's own DATA_UPLOAD_MAX_MEMORY_SIZE ignores multipart files, and a declared length is
    enough to refuse a 10 MB upload without receiving it.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return JsonResponse({"error": "invalid Content-Length header"}, status=400)
        limit = settings.HWR_MAX_UPLOAD_BYTES
        if length > limit:
            return JsonResponse(
                {"error": f"request body is larger than {limit:,} bytes"}, status=413
            )
        return self.get_response(request)
