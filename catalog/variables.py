"""The one server-side validation of catalog item forms, used by the portal form and the API alike.

A form definition is the frozen JSON of a published catalog item version (see catalog.services). Values come in as
JSON-like primitives (the API) or form strings (the portal); they leave as JSON primitives with a readable display.
Every error is keyed by the variable's name, so the caller can name it in its 400 answer.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError

from catalog.enums import VariableType as V

TEXT_DEFAULT_MAX = 255
LONG_TEXT_DEFAULT_MAX = 4000
_YES = {"yes", "true", "1", "on", "y"}
_NO = {"no", "false", "0", "off", "n"}


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip()) or (isinstance(value, list) and not value)


def _parse(var: dict, value: Any) -> tuple[Any, str]:
    """(stored value, display text) for one present answer; ValueError with a message when it is not acceptable."""
    kind = var["type"]
    if kind in (V.TEXT, V.LONG_TEXT):
        if not isinstance(value, str | int | float) or isinstance(value, bool):
            raise ValueError("Enter text.")
        text = str(value).strip()
        limit = var.get("max_length") or (TEXT_DEFAULT_MAX if kind == V.TEXT else LONG_TEXT_DEFAULT_MAX)
        if len(text) > limit:
            raise ValueError(f"At most {limit} characters.")
        if var.get("pattern") and not re.fullmatch(var["pattern"], text):
            raise ValueError(var.get("pattern_message") or "The answer does not have the expected format.")
        return text, text
    if kind == V.NUMBER:
        if isinstance(value, bool):
            raise ValueError("Enter a number.")
        try:
            number = Decimal(str(value).strip())
        except InvalidOperation:
            raise ValueError("Enter a number.") from None
        if not number.is_finite():
            raise ValueError("Enter a number.")
        if var.get("min") is not None and number < Decimal(var["min"]):
            raise ValueError(f"At least {var['min']}.")
        if var.get("max") is not None and number > Decimal(var["max"]):
            raise ValueError(f"At most {var['max']}.")
        stored: int | float = int(number) if number == number.to_integral_value() else float(number)
        return stored, str(stored)
    if kind == V.DATE:
        try:
            day = date.fromisoformat(str(value).strip())
        except ValueError:
            raise ValueError("Enter a date as YYYY-MM-DD.") from None
        return day.isoformat(), day.strftime("%-d %b %Y")
    if kind == V.CHOICE:
        if str(value) not in var["choices"]:
            raise ValueError(f"Choose one of: {', '.join(var['choices'])}.")
        return str(value), str(value)
    if kind == V.MULTIPLE_CHOICE:
        picked = value if isinstance(value, list) else [value]
        bad = [str(p) for p in picked if str(p) not in var["choices"]]
        if bad:
            raise ValueError(f"Not an option: {', '.join(bad)}. Choose from: {', '.join(var['choices'])}.")
        ordered = [c for c in var["choices"] if c in {str(p) for p in picked}]
        return ordered, ", ".join(ordered)
    if kind == V.YES_NO:
        if isinstance(value, bool):
            answer = value
        elif str(value).strip().lower() in _YES:
            answer = True
        elif str(value).strip().lower() in _NO:
            answer = False
        else:
            raise ValueError("Answer yes or no.")
        return answer, "Yes" if answer else "No"
    if kind == V.USER:
        user = _lookup(User.objects.filter(is_active=True), value, "username")
        if user is None:
            raise ValueError("No such active user.")
        return user.pk, user.get_full_name() or user.get_username()
    if kind == V.CI:
        from catalog.models import ConfigurationItem

        ci = _lookup(ConfigurationItem.objects.filter(active=True), value, "name")
        if ci is None:
            raise ValueError("No such active configuration item.")
        return ci.pk, ci.name
    raise ValueError("Unknown question type.")


def _lookup(queryset, value: Any, name_field: str):
    if isinstance(value, bool):
        return None
    if isinstance(value, int) or (isinstance(value, str) and value.strip().isdigit()):
        return queryset.filter(pk=int(value)).first()
    if isinstance(value, str) and value.strip():
        return queryset.filter(**{name_field: value.strip()}).first()
    return None


def _matches(var: dict, stored: Any, expected: str) -> bool:
    if var["type"] == V.YES_NO:
        return stored is (expected.strip().lower() in _YES)
    if isinstance(stored, list):
        return expected in stored
    return stored is not None and str(stored) == expected


def variables_validate(
    *,
    definition: dict,
    values: dict[str, Any] | None,
    files: dict[str, Any] | None = None,
    resolve_upload: Callable[[str, Any], Any] | None = None,
) -> tuple[dict[str, Any], dict[str, str]]:
    """Check every answer against the form definition; returns (stored values, display texts).

    Hidden questions (whose show-when rule does not hold) are not required and their answers are dropped. Attachment
    answers come in `files` (an uploaded file per name) or, where `resolve_upload` is given, as the id of a file
    uploaded before (`resolve_upload(name, value)` returns the file, or None when the id is not usable); either way
    they are checked like every attachment; the stored value is the file name (the caller attaches the file to the
    ticket). Raises ValidationError({name: message, ...}).
    """
    values = dict(values or {})
    files = dict(files or {})
    variables = {var["name"]: var for var in definition.get("variables", [])}
    errors: dict[str, str] = {}
    for name in sorted((set(values) | set(files)) - set(variables)):
        errors[name] = "This item has no such question."
    parsed: dict[str, tuple[Any, str]] = {}
    for name, var in variables.items():
        if var["type"] == V.ATTACHMENT:
            upload = files.get(name)
            if not _missing(values.get(name)):
                if resolve_upload is None:
                    errors[name] = "Upload the file (multipart form) instead of sending a value."
                    continue
                upload = resolve_upload(name, values[name])
                if upload is None:
                    errors[name] = (
                        "No upload with this id is waiting for you (unknown, someone else's, already used or expired):"
                        " upload the file with POST /api/v1/uploads/ and send the id it returns."
                    )
                    continue
            if upload is None:
                continue
            from itsm.services import attachment_validate

            try:
                head = upload.read(512)
                upload.seek(0)
                clean_name, _type = attachment_validate(name=upload.name or "", head=head, size=upload.size)
            except ValidationError as error:
                errors[name] = " ".join(error.message_dict.get("file", error.messages))
                continue
            parsed[name] = (clean_name, clean_name)
            continue
        value = values.get(name)
        if _missing(value):
            continue
        try:
            parsed[name] = _parse(var, value)
        except ValueError as error:
            errors[name] = str(error)

    def visible(name: str, seen: frozenset = frozenset()) -> bool:
        rule = variables[name].get("show_when")
        if not rule:
            return True
        controller = rule["variable"]
        if controller not in variables or controller in seen or not visible(controller, seen | {name}):
            return False
        answer = parsed.get(controller)
        return answer is not None and _matches(variables[controller], answer[0], rule["equals"])

    stored: dict[str, Any] = {}
    display: dict[str, str] = {}
    for name, var in variables.items():
        if not visible(name):
            errors.pop(name, None)
            continue
        if name in errors:
            continue
        if name not in parsed:
            if var.get("required"):
                errors[name] = "This question is required." if var["type"] != V.ATTACHMENT else "Attach the file."
            continue
        stored[name], display[name] = parsed[name]
    if errors:
        raise ValidationError({name: [message] for name, message in errors.items()})
    return stored, display
