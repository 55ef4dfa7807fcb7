"""The incident state machine as one table of allowed and refused transitions, and the priority matrix."""

import pytest
from django_fsm import TransitionNotAllowed, can_proceed

from incidents.enums import IncidentState as S
from incidents.models import Incident
from itsm.enums import StateCategory
from itsm.selectors import priority_for

ALLOWED = {
    "start": {S.NEW},
    "hold": {S.NEW, S.IN_PROGRESS, S.ON_HOLD},
    "resume": {S.ON_HOLD},
    "resolve": {S.NEW, S.IN_PROGRESS, S.ON_HOLD},
    "reopen": {S.RESOLVED},
    "close": {S.RESOLVED},
    "cancel": {S.NEW, S.IN_PROGRESS, S.ON_HOLD},
}
TARGET = {
    "start": S.IN_PROGRESS,
    "hold": S.ON_HOLD,
    "resume": S.IN_PROGRESS,
    "resolve": S.RESOLVED,
    "reopen": S.IN_PROGRESS,
    "close": S.CLOSED,
    "cancel": S.CANCELED,
}


def _args(name):
    from tests.factories import close_code, hold_reason

    if name == "hold":
        return {"reason": hold_reason("awaiting_vendor")}
    if name == "resolve":
        return {"close_code": close_code(), "close_notes": "fixed"}
    return {}


def _incident_in(state) -> Incident:
    from tests.factories import incident_in_state

    return incident_in_state(state)


@pytest.mark.django_db
@pytest.mark.parametrize("name", sorted(ALLOWED))
@pytest.mark.parametrize("state", list(S))
def test_incident_transition_table(name, state):
    incident = _incident_in(state)
    method = getattr(incident, name)
    if state in ALLOWED[name]:
        assert can_proceed(method)
        method(**_args(name))
        assert incident.state == TARGET[name]
    else:
        assert not can_proceed(method)
        with pytest.raises(TransitionNotAllowed):
            method(**_args(name))
        assert incident.state == state


@pytest.mark.django_db
def test_incident_hold_category_follows_reason():
    from tests.factories import hold_reason

    incident = _incident_in(S.IN_PROGRESS)
    incident.hold(reason=hold_reason("awaiting_caller"))
    assert incident.state_category == StateCategory.PENDING_CUSTOMER
    incident.hold(reason=hold_reason("awaiting_vendor"))
    assert incident.state_category == StateCategory.PENDING_THIRD_PARTY


@pytest.mark.django_db
def test_incident_closed_is_inactive():
    incident = _incident_in(S.RESOLVED)
    incident.close()
    assert incident.state_category == StateCategory.CLOSED
    assert incident.active is False
    assert incident.closed_at is not None


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("impact", "urgency", "priority"),
    [(1, 1, 1), (1, 2, 2), (1, 3, 3), (2, 1, 2), (2, 2, 3), (2, 3, 4), (3, 1, 3), (3, 2, 4), (3, 3, 4)],
)
def test_priority_matrix_default(impact, urgency, priority):
    assert priority_for(impact=impact, urgency=urgency) == priority


def test_incident_state_is_protected():
    incident = Incident(short_description="x")
    with pytest.raises(AttributeError):
        incident.state = S.CLOSED
