"""Incident Celery tasks."""

from celery import shared_task

from incidents.services import incident_auto_close


@shared_task(name="incidents.auto_close", acks_late=True, time_limit=600, soft_time_limit=540)
def incident_auto_close_task() -> int:
    """Close incidents that stayed resolved past the configured number of days."""
    return incident_auto_close()
