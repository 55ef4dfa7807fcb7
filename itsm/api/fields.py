"""Serializer fields that write and read related records the way integrations name them."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from itsm.fields import lookup_for


@extend_schema_field(OpenApiTypes.STR)
class NameOrIdRelatedField(serializers.RelatedField):
    """Written as a name (unique) or an integer id; read back as the name."""

    default_error_messages = {
        "does_not_exist": "No {model} named or numbered '{value}'.",
        "invalid": "Give a name or an integer id.",
    }

    def __init__(self, *, name_field: str = "name", **kwargs):
        self.name_field = name_field
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, int | str):
            self.fail("invalid")
        text = str(data).strip()
        if not text or len(text) > 200:
            self.fail("invalid")
        queryset = self.get_queryset()
        try:
            return queryset.get(**lookup_for(text, self.name_field))
        except queryset.model.DoesNotExist:
            self.fail("does_not_exist", model=queryset.model._meta.verbose_name, value=text)

    def to_representation(self, value):
        return getattr(value, self.name_field)


class UsernameField(NameOrIdRelatedField):
    """A user, written and read by username (an integer id is accepted on write)."""

    def __init__(self, **kwargs):
        kwargs.setdefault("queryset", get_user_model().objects.filter(is_active=True))
        super().__init__(name_field="username", **kwargs)
