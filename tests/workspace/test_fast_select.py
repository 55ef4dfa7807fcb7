"""The workspace's Python-rendered select gives the same markup as Django's select templates (whitespace aside),
escaped the same way."""

import re

from django import forms

from itsm.workspace.forms import FastSelect

CHOICES = [
    ("", "---------"),
    ("Teams", [("1", "Service <Desk>"), ("2", 'Net "work"')]),
    ("3", "Loose & free"),
]


def _squash(html: str) -> str:
    return re.sub(r"\s*\n\s*", "", str(html))


def test_fast_select_renders_like_django_select():
    attrs = {"id": "id_team", "class": "input", "required": True, "disabled": False}
    ours = FastSelect(choices=CHOICES).render("team", "2", attrs=attrs)
    django = forms.Select(choices=CHOICES).render("team", "2", attrs=attrs)
    assert _squash(ours) == _squash(django)
    assert "Service &lt;Desk&gt;" in ours and "selected" in ours
