from django.conf import settings
from django.contrib import admin
from django.db import transaction
from django.urls import include, path

from hwrsite.api import api
from recognition.api import NON_ATOMIC_URL_NAMES

api_urlpatterns, api_app_name, api_namespace = api.urls
for pattern in api_urlpatterns:
    # Ninja serves every operation through its own view, so Django's per-view opt-out of
    # ATOMIC_REQUESTS is applied here, to the operations that manage their own transactions.
    if pattern.name in NON_ATOMIC_URL_NAMES:
        transaction.non_atomic_requests(pattern.callback)

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/v1/", (api_urlpatterns, api_app_name, api_namespace)),
    path("", include("feedback.urls")),
    path("", include("challenge.urls")),
    path("", include("recognition.urls")),
]

if settings.DEBUG:
    from django.conf.urls.static import static

    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)
