"""Template filters for SLA figures."""

from django import template

register = template.Library()


@register.filter
def duration(seconds) -> str:
    """Integer seconds as '3h 20m', '45m' or '20s' (business time has no days of fixed length)."""
    try:
        seconds = int(seconds)
    except (TypeError, ValueError):
        return ""
    hours, rest = divmod(max(seconds, 0), 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h {minutes:02d}m"
    if minutes:
        return f"{minutes}m"
    return f"{secs}s"
