"""WSGI entry point, served by gunicorn (see ``manage.py run``)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "delegate.settings")

application = get_wsgi_application()
