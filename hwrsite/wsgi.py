"""WSGI entry point for gunicorn: `gunicorn hwrsite.wsgi`."""
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hwrsite.settings")
application = get_wsgi_application()
