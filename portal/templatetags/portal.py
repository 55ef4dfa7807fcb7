"""Portal template helpers: catalog and knowledge icons drawn from the app's own SVG sprite (no icon font, no CDN;
emoji are not drawn on every system)."""

from django import template
from django.templatetags.static import static
from django.utils.html import format_html

from catalog.enums import ICON_NAMES

register = template.Library()

ICONS = frozenset(ICON_NAMES)


@register.simple_tag
def portal_icon(name: str, default: str = "box"):
    """An icon by name (laptop, key, mail ...); anything else (an emoji an admin typed) is shown as text."""
    name = (name or "").strip() or default
    if name not in ICONS:
        return format_html('<span class="icon-text">{}</span>', name)
    return format_html(
        '<svg class="icon" aria-hidden="true" focusable="false"><use href="{}#{}"></use></svg>',
        static("portal/icons.svg"),
        name,
    )
