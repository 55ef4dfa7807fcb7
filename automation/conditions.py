"""Conditions of rules and triggers: what they may name, how they are checked at save, how they match a ticket.

A condition is {"field": ..., "op": ..., "value": ...}; a list of them holds when each holds. Regular expressions run
with a time limit (the `regex` module's timeout), so a pathological pattern cannot hang ticket creation.
"""

from __future__ import annotations

import logging
from typing import Any

import regex

logger = logging.getLogger(__name__)

REGEX_TIMEOUT_SECONDS = 0.05
TEXT_FIELDS = {"short_description", "description", "text"}
NUMBER_FIELDS = {"impact", "urgency", "priority"}
PLAIN_FIELDS = {"state", "state_category", "kind", "caller_department", "caller_location"}
# Related records, matched by id or (case-insensitively) by name / username.
RELATED_FIELDS = {
    "assignment_group": "name",
    "assigned_to": "username",
    "caller": "username",
    "service": "name",
    "configuration_item": "name",
    "category": "name",
    "subcategory": "name",
}
FIELDS = TEXT_FIELDS | NUMBER_FIELDS | PLAIN_FIELDS | set(RELATED_FIELDS)
OPS = {"equals", "not_equals", "in", "contains", "keywords", "regex", "is_empty", "not_empty"}
TEXT_OPS = {"contains", "keywords", "regex"}
SETTABLE = {"priority", "assignment_group", "assigned_to", "category", "subcategory"}


def conditions_problems(conditions: Any) -> list[str]:
    """What is wrong with a list of conditions, in words (empty when it is valid)."""
    if not isinstance(conditions, list):
        return ['Give a list of conditions, e.g. [{"field": "priority", "op": "equals", "value": 1}].']
    problems = []
    for number, condition in enumerate(conditions, start=1):
        if not isinstance(condition, dict) or set(condition) - {"field", "op", "value"}:
            problems.append(f"Condition {number}: give an object with field, op and value.")
            continue
        field, op, value = condition.get("field"), condition.get("op"), condition.get("value")
        if field not in FIELDS:
            problems.append(f"Condition {number}: unknown field '{field}'.")
        if op not in OPS:
            problems.append(f"Condition {number}: unknown operator '{op}'.")
            continue
        if op in ("is_empty", "not_empty"):
            continue
        if op in ("in", "keywords"):
            if not isinstance(value, list) or not value or not all(isinstance(v, str | int) for v in value):
                problems.append(f"Condition {number}: '{op}' needs a non-empty list of values.")
        elif not isinstance(value, str | int) or isinstance(value, bool) or value == "":
            problems.append(f"Condition {number}: '{op}' needs a value.")
        if op == "regex" and isinstance(value, str):
            if len(value) > 200:
                problems.append(f"Condition {number}: the pattern is longer than 200 characters.")
            else:
                try:
                    regex.compile(value)
                except regex.error as error:
                    problems.append(f"Condition {number}: invalid pattern ({error}).")
    return problems


def set_fields_problems(values: Any) -> list[str]:
    """What is wrong with a trigger's `set_fields` object."""
    if not isinstance(values, dict):
        return ['Give an object, e.g. {"priority": 1}.']
    problems = [f"'{name}' cannot be set." for name in values if name not in SETTABLE]
    if "priority" in values and values["priority"] not in (1, 2, 3, 4, 5):
        problems.append("priority must be 1 to 5.")
    return problems


def _related_values(value: Any, name_field: str) -> set[str]:
    if value is None:
        return set()
    return {str(value.pk), str(getattr(value, name_field, "")).lower()}


def field_values(ticket: Any, field: str) -> tuple[set[str], str]:
    """The ticket's value for a condition field: the strings it may be named by, and its text for text operators."""
    if field == "text":
        text = f"{ticket.short_description}\n{ticket.description}"
        return ({text.lower()} if text.strip() else set()), text
    if field in RELATED_FIELDS:
        related = getattr(ticket, field)
        return _related_values(related, RELATED_FIELDS[field]), str(related or "")
    if field == "caller_department":
        profile = getattr(ticket.caller, "requester_profile", None) if ticket.caller_id else None
        value = profile.department if profile is not None else ""
    elif field == "caller_location":
        profile = getattr(ticket.caller, "automation_profile", None) if ticket.caller_id else None
        value = profile.location if profile is not None else ""
    else:
        raw = getattr(ticket, field, "")
        value = "" if raw is None else str(raw)
    return ({value.lower()} if value != "" else set()), value


def _keyword_hit(keyword: str, text: str) -> bool:
    pattern = r"(?<!\w)" + r"\s+".join(regex.escape(word) for word in str(keyword).split()) + r"(?!\w)"
    return regex.search(pattern, text, flags=regex.IGNORECASE) is not None


def condition_holds(condition: dict, ticket: Any) -> bool:
    """Whether one (valid) condition holds for the ticket; a regex that runs out of time does not hold."""
    names, text = field_values(ticket, condition["field"])
    op, value = condition["op"], condition.get("value")
    if op == "is_empty":
        return not names
    if op == "not_empty":
        return bool(names)
    if op == "equals":
        return str(value).lower() in names
    if op == "not_equals":
        return str(value).lower() not in names
    if op == "in":
        return any(str(item).lower() in names for item in value)
    if op == "contains":
        return str(value).lower() in text.lower()
    if op == "keywords":
        return any(_keyword_hit(keyword, text) for keyword in value)
    if op == "regex":
        try:
            return regex.search(value, text, flags=regex.IGNORECASE, timeout=REGEX_TIMEOUT_SECONDS) is not None
        except TimeoutError:
            logger.warning("Condition pattern %r ran out of time; treated as not matching.", value)
            return False
    return False


def conditions_hold(conditions: list[dict], ticket: Any) -> bool:
    """Whether every condition holds (an empty list always holds)."""
    return all(condition_holds(condition, ticket) for condition in conditions)
