from django.conf import settings
from django.contrib import admin
from django.urls import include, path

from hwrsite.api import api

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/v1/", api.urls),
    path("", include("feedback.urls")),
    path("", include("challenge.urls")),
    path("", include("recognition.urls")),
]

if settings.DEBUG:
    from django.conf.urls.static import static

    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)
