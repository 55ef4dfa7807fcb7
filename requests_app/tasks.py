"""Service request Celery tasks."""

from celery import shared_task

from requests_app.services import requested_item_auto_close, uploads_purge


@shared_task(name="requests_app.auto_close", acks_late=True, time_limit=600, soft_time_limit=540)
def requested_item_auto_close_task() -> int:
    """Close requested items that stayed fulfilled past the configured number of days."""
    return requested_item_auto_close()


@shared_task(name="requests_app.uploads_purge", acks_late=True, time_limit=600, soft_time_limit=540)
def uploads_purge_task() -> int:
    """Remove uploads that no order used within ITSM_UPLOAD_EXPIRY_HOURS."""
    return uploads_purge()
