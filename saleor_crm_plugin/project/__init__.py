"""The standalone Django project that runs the CRM as a Saleor app."""

from .celery import app as celery_app

__all__ = ["celery_app"]
