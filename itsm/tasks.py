"""Kernel Celery tasks: outbox delivery."""

from celery import shared_task

from itsm.services import outbox_flush, outbox_send


@shared_task(name="itsm.outbox_send", acks_late=True)
def outbox_send_task(*, message_id: int) -> bool:
    """Send one outbox message (a no-op when it was already sent)."""
    return outbox_send(message_id=message_id)


@shared_task(name="itsm.outbox_flush", acks_late=True)
def outbox_flush_task() -> int:
    """Send every pending outbox message that no task picked up."""
    return outbox_flush()
