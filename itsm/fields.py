"""Form fields shared by filtersets, workspace forms and the API: look a record up by its name or its id."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError

MAX_ID = 2**63 - 1


def lookup_for(text: str, name_field: str) -> dict:
    """An integer id when the text is plain ASCII digits within range, otherwise the unique name."""
    if text.isascii() and text.isdigit() and int(text) <= MAX_ID:
        return {"pk": int(text)}
    return {name_field: text}


class NameOrIdChoiceField(forms.ModelChoiceField):
    """A ModelChoiceField that accepts an integer id or the value of `name_field` (unique)."""

    def __init__(self, *args, name_field: str = "name", **kwargs):
        self.name_field = name_field
        super().__init__(*args, **kwargs)

    def to_python(self, value):
        if value in self.empty_values:
            return None
        text = str(value).strip()
        try:
            return self.queryset.get(**lookup_for(text, self.name_field))
        except (self.queryset.model.DoesNotExist, ValueError, TypeError):
            raise ValidationError(f"No such record: '{text}'.", code="invalid_choice") from None

    def prepare_value(self, value):
        if hasattr(value, "_meta"):
            return getattr(value, self.name_field)
        return value
