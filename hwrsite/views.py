"""Project-wide views."""
from django.http import JsonResponse
from django.views import csrf


def csrf_failure(request, reason=""):
    """A JSON 403 for the pages' fetch() calls (they ask for JSON); Django's page otherwise."""
    if "application/json" in request.headers.get("Accept", ""):
        return JsonResponse(
            {"error": f"security check failed ({reason}): reload the page and try again"},
            status=403,
        )
    return csrf.csrf_failure(request, reason=reason)
