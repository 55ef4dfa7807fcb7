"""Polling a mailbox over IMAP: unseen messages are ingested, then flagged seen (ingestion is idempotent, so a crash
between the two only re-reads a message that is then recognised)."""

from __future__ import annotations

import contextlib
import imaplib
import logging
from datetime import timedelta

from django.db.models import Q
from django.utils import timezone

from mail.inbound import email_ingest
from mail.models import Mailbox

logger = logging.getLogger(__name__)

POLL_CLAIM_SECONDS = 600
IMAP_TIMEOUT = 30


def _connect(mailbox: Mailbox) -> imaplib.IMAP4:
    cls = imaplib.IMAP4_SSL if mailbox.imap_ssl else imaplib.IMAP4
    return cls(mailbox.imap_host, mailbox.imap_port, timeout=IMAP_TIMEOUT)


def mailbox_poll(*, mailbox_id: int, limit: int = 100) -> int:
    """Fetch and ingest up to `limit` unseen messages of one mailbox; returns how many were ingested.

    A claim on the mailbox row keeps two workers from polling it at once without holding a lock during IMAP.
    """
    now = timezone.now()
    claimed = Mailbox.objects.filter(
        Q(polling_since__isnull=True) | Q(polling_since__lt=now - timedelta(seconds=POLL_CLAIM_SECONDS)),
        pk=mailbox_id,
        active=True,
    ).update(polling_since=now)
    if not claimed:
        return 0
    mailbox = Mailbox.objects.get(pk=mailbox_id)
    done, error = 0, ""
    try:
        imap = _connect(mailbox)
        try:
            imap.login(mailbox.imap_username, mailbox.imap_password)
            status, _data = imap.select(_quote(mailbox.imap_folder))
            if status != "OK":
                raise imaplib.IMAP4.error(f"cannot select {mailbox.imap_folder}")
            _status, found = imap.uid("SEARCH", None, "UNSEEN")
            for uid in (found[0] or b"").split()[:limit]:
                _status, parts = imap.uid("FETCH", uid, "(BODY.PEEK[])")
                raw = next((p[1] for p in parts if isinstance(p, tuple)), None)
                if raw is None:
                    continue
                email_ingest(raw=raw, mailbox=mailbox)
                imap.uid("STORE", uid, "+FLAGS", "(\\Seen)")
                done += 1
        finally:
            with contextlib.suppress(Exception):
                imap.logout()
    except (OSError, imaplib.IMAP4.error) as exc:
        error = f"{type(exc).__name__}: {exc}"
        logger.warning("polling %s failed: %s", mailbox, error)
    Mailbox.objects.filter(pk=mailbox_id).update(polling_since=None, last_polled_at=timezone.now(), last_error=error)
    return done


def _quote(folder: str) -> str:
    return '"' + folder.replace("\\", "\\\\").replace('"', '\\"') + '"'


def mailboxes_poll() -> int:
    """Poll every active mailbox that has an IMAP host; returns how many messages were ingested."""
    ids = Mailbox.objects.filter(active=True).exclude(imap_host="").values_list("pk", flat=True)
    return sum(mailbox_poll(mailbox_id=pk) for pk in ids)
