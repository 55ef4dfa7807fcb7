"""E-mail Celery tasks: the IMAP poll."""

from celery import shared_task

from mail.imap import mailboxes_poll


@shared_task(name="mail.poll", acks_late=True)
def mailboxes_poll_task() -> int:
    """Poll every IMAP mailbox for new mail."""
    return mailboxes_poll()
