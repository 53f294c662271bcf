import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "saleor_crm_plugin.project.settings")
application = get_wsgi_application()

from .celery import app as celery_app  # noqa: E402,F401
