"""The webhook signature: `X-ITSM-Signature: t=<unix time>,v1=<hex HMAC-SHA256 of "<t>.<body>">`.

Receivers recompute the HMAC with the endpoint's secret, compare in constant time and refuse a timestamp outside
their replay window (we suggest five minutes); `X-ITSM-Delivery` is the same on every retry of one delivery, so a
receiver that keeps the ids it has processed never acts twice.
"""

from __future__ import annotations

import hashlib
import hmac
import time

SIGNATURE_HEADER = "X-ITSM-Signature"
DEFAULT_TOLERANCE = 300


def signature(*, secret: str, body: bytes, timestamp: int) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={mac}"


def signature_verify(
    *, secret: str, body: bytes, header: str, tolerance: int = DEFAULT_TOLERANCE, now: float | None = None
) -> bool:
    """True when the header signs this body with this secret and its timestamp is within the replay window."""
    try:
        fields = dict(part.split("=", 1) for part in header.split(","))
        timestamp = int(fields["t"])
        given = fields["v1"]
    except (KeyError, ValueError):
        return False
    if abs((now if now is not None else time.time()) - timestamp) > tolerance:
        return False
    expected = signature(secret=secret, body=body, timestamp=timestamp).split("v1=", 1)[1]
    return hmac.compare_digest(expected, given)
