"""The change state machine per change type as tables of allowed and refused transitions, with codes and
categories."""

import pytest
from django_fsm import TransitionNotAllowed, can_proceed

from changes.enums import CHANGE_STATE_CODES
from changes.enums import ChangeState as S
from changes.models import Change
from itsm.enums import StateCategory
from tests.factories import change_in_state, change_path

CANCELABLE = {S.NEW, S.ASSESS, S.AUTHORIZE, S.SCHEDULED, S.IMPLEMENT}
COMMON = {
    "implement": {S.SCHEDULED},
    "review": {S.IMPLEMENT},
    "close": {S.REVIEW},
    "cancel": CANCELABLE,
    "revert_to_new": {S.ASSESS, S.AUTHORIZE, S.SCHEDULED},
}
# "schedule" from Authorize needs the policy met: the table's Authorize changes are still waiting, so it is refused.
ALLOWED = {
    "normal": {**COMMON, "assess": {S.NEW}, "request_approval": {S.ASSESS}, "schedule": set()},
    "emergency": {**COMMON, "assess": set(), "request_approval": {S.NEW}, "schedule": set()},
    "standard": {**COMMON, "assess": set(), "request_approval": set(), "schedule": {S.NEW}},
}
TARGET = {
    "assess": S.ASSESS,
    "request_approval": S.AUTHORIZE,
    "schedule": S.SCHEDULED,
    "implement": S.IMPLEMENT,
    "review": S.REVIEW,
    "close": S.CLOSED,
    "cancel": S.CANCELED,
    "revert_to_new": S.NEW,
}
CATEGORY = {
    S.NEW: StateCategory.NEW,
    S.ASSESS: StateCategory.ACTIVE,
    S.AUTHORIZE: StateCategory.ACTIVE,
    S.SCHEDULED: StateCategory.ACTIVE,
    S.IMPLEMENT: StateCategory.ACTIVE,
    S.REVIEW: StateCategory.RESOLVED,
    S.CLOSED: StateCategory.CLOSED,
    S.CANCELED: StateCategory.CANCELLED,
}
ARGS = {
    "review": {"close_code": "successful", "close_notes": "ok"},
    "close": {"review_notes": "ok"},
}
CASES = [
    (change_type, state)
    for change_type in ("normal", "emergency", "standard")
    for state in S
    if change_path(change_type, state) is not None
]


@pytest.mark.django_db
@pytest.mark.parametrize("name", sorted(TARGET))
@pytest.mark.parametrize(("change_type", "state"), CASES)
def test_change_transition_table(change_type, state, name):
    change = change_in_state(state, change_type=change_type)
    method = getattr(change, name)
    if state in ALLOWED[change_type][name]:
        assert can_proceed(method)
        method(**ARGS.get(name, {}))
        assert change.state == TARGET[name]
        assert change.state_category == CATEGORY[TARGET[name]]
    else:
        assert not can_proceed(method)
        with pytest.raises(TransitionNotAllowed):
            method(**ARGS.get(name, {}))
        assert change.state == state


def test_change_state_codes_follow_servicenow():
    assert [CHANGE_STATE_CODES[s] for s in S] == [-5, -4, -3, -2, -1, 0, 3, 4]


@pytest.mark.django_db
@pytest.mark.parametrize(("change_type", "state"), CASES)
def test_change_state_category_and_active_flag(change_type, state):
    change = Change.objects.get(pk=change_in_state(state, change_type=change_type).pk)
    assert change.state_category == CATEGORY[state]
    assert change.active is (state not in (S.CLOSED, S.CANCELED))
    assert change.state_code == CHANGE_STATE_CODES[state]
    assert change.kind == "change" and change.number.startswith("CHG")


def test_change_state_is_protected():
    change = Change(short_description="x")
    with pytest.raises(AttributeError):
        change.state = S.CLOSED
