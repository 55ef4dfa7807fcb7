"""Webhook Celery tasks: one delivery, and the sweep of what is due."""

from celery import shared_task

from webhooks.services import webhook_deliver, webhooks_flush


@shared_task(name="webhooks.deliver", acks_late=True)
def webhook_deliver_task(*, delivery_id: int) -> bool:
    """Send one webhook delivery (a no-op when it is not due)."""
    return webhook_deliver(delivery_id=delivery_id)


@shared_task(name="webhooks.flush", acks_late=True)
def webhooks_flush_task() -> int:
    """Send every due webhook delivery."""
    return webhooks_flush()
