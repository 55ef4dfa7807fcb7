"""The service desk's project package and shared kernel app."""

from itsm.celery import app as celery_app

__all__ = ("celery_app",)
