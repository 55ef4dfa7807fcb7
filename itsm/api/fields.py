"""Serializer fields that write and read related records the way integrations name them."""

from __future__ import annotations

from functools import cache

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

    def __deepcopy__(self, memo):
        # Every serializer instance deep-copies its declared fields, and DRF copies a field's queryset with it (a
        # query clone per field per request). The queryset is only read through get_queryset(), which clones it: the
        # copy shares it.
        queryset = self._kwargs.get("queryset")
        if queryset is not None:
            memo[id(queryset)] = queryset
        return super().__deepcopy__(memo)

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, int | str):
            self.fail("invalid")
        text = str(data).strip()
        if not text or len(text) > 200 or "\x00" in text:  # PostgreSQL refuses NUL in a query: not a 500
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


@cache
def _categories(practice: str, sub: bool):
    """A practice's active categories or subcategories: one unevaluated queryset per kind, shared by every field
    (fields are re-created per serializer instance, and each built and compiled its filter anew)."""
    from itsm.models import Category

    return Category.objects.filter(practice=practice, active=True, parent__isnull=not sub)


class CategoryField(NameOrIdRelatedField):
    """A category or subcategory of one practice, written as its name or id and read back as its name.

    Subcategory names may repeat under different categories: such a name is refused as ambiguous (give the id).
    """

    default_error_messages = {**NameOrIdRelatedField.default_error_messages, "ambiguous": "'{value}' is ambiguous."}

    def __init__(self, *, practice: str, sub: bool = False, **kwargs):
        kwargs.setdefault("required", False)
        kwargs.setdefault("allow_null", True)
        super().__init__(queryset=_categories(practice, sub), **kwargs)

    def to_internal_value(self, data):
        try:
            return super().to_internal_value(data)
        except self.get_queryset().model.MultipleObjectsReturned:
            self.fail("ambiguous", value=str(data).strip())
