"""The problem and problem task state machines as tables of allowed and refused transitions, with codes and
categories."""

import pytest
from django_fsm import TransitionNotAllowed, can_proceed

from itsm.enums import StateCategory
from problems.enums import PROBLEM_STATE_CODES, PROBLEM_TASK_STATE_CODES
from problems.enums import ProblemState as S
from problems.enums import ProblemTaskState as T
from problems.models import Problem, ProblemTask
from tests.factories import problem_in_state, problem_task_in_state

OPEN = {S.NEW, S.ASSESS, S.ROOT_CAUSE_ANALYSIS, S.FIX_IN_PROGRESS}
ALLOWED = {
    "assess": {S.NEW},
    "analyze": {S.ASSESS},
    "fix": {S.ROOT_CAUSE_ANALYSIS},
    "resolve": OPEN,
    "close": {S.RESOLVED},
    "cancel": OPEN,
    "reopen": {S.RESOLVED},
}
TARGET = {
    "assess": S.ASSESS,
    "analyze": S.ROOT_CAUSE_ANALYSIS,
    "fix": S.FIX_IN_PROGRESS,
    "resolve": S.RESOLVED,
    "close": S.CLOSED,
    "cancel": S.CANCELED,
    "reopen": S.ROOT_CAUSE_ANALYSIS,
}
CATEGORY = {
    S.NEW: StateCategory.NEW,
    S.ASSESS: StateCategory.ACTIVE,
    S.ROOT_CAUSE_ANALYSIS: StateCategory.ACTIVE,
    S.FIX_IN_PROGRESS: StateCategory.ACTIVE,
    S.RESOLVED: StateCategory.RESOLVED,
    S.CLOSED: StateCategory.CLOSED,
    S.CANCELED: StateCategory.CANCELLED,
}


def _args(name):
    if name == "resolve":
        return {"resolution_code": "risk_accepted", "cause_notes": "c", "close_notes": "n"}
    return {}


@pytest.mark.django_db
@pytest.mark.parametrize("name", sorted(ALLOWED))
@pytest.mark.parametrize("state", list(S))
def test_problem_transition_table(name, state):
    problem = problem_in_state(state)
    method = getattr(problem, name)
    if state in ALLOWED[name]:
        assert can_proceed(method)
        method(**_args(name))
        assert problem.state == TARGET[name]
        assert problem.state_category == CATEGORY[TARGET[name]]
    else:
        assert not can_proceed(method)
        with pytest.raises(TransitionNotAllowed):
            method(**_args(name))
        assert problem.state == state


def test_problem_state_codes_follow_servicenow():
    assert [PROBLEM_STATE_CODES[s] for s in S] == [101, 102, 103, 104, 106, 107, 108]


@pytest.mark.django_db
@pytest.mark.parametrize("state", list(S))
def test_problem_state_category_and_active_flag(state):
    problem = Problem.objects.get(pk=problem_in_state(state).pk)
    assert problem.state_category == CATEGORY[state]
    assert problem.active is (state not in (S.CLOSED, S.CANCELED))
    assert problem.state_code == PROBLEM_STATE_CODES[state]


def test_problem_state_is_protected():
    problem = Problem(short_description="x")
    with pytest.raises(AttributeError):
        problem.state = S.CLOSED


TASK_ALLOWED = {
    "assess": {T.NEW},
    "start": {T.NEW, T.ASSESS},
    "close": {T.NEW, T.ASSESS, T.WORK_IN_PROGRESS},
}
TASK_TARGET = {"assess": T.ASSESS, "start": T.WORK_IN_PROGRESS, "close": T.CLOSED}
TASK_CATEGORY = {
    T.NEW: StateCategory.NEW,
    T.ASSESS: StateCategory.ACTIVE,
    T.WORK_IN_PROGRESS: StateCategory.ACTIVE,
    T.CLOSED: StateCategory.CLOSED,
}


@pytest.mark.django_db
@pytest.mark.parametrize("name", sorted(TASK_ALLOWED))
@pytest.mark.parametrize("state", list(T))
def test_problem_task_transition_table(name, state):
    task = problem_task_in_state(state)
    method = getattr(task, name)
    kwargs = {"close_notes": "done"} if name == "close" else {}
    if state in TASK_ALLOWED[name]:
        assert can_proceed(method)
        method(**kwargs)
        assert task.state == TASK_TARGET[name]
        assert task.state_category == TASK_CATEGORY[TASK_TARGET[name]]
    else:
        assert not can_proceed(method)
        with pytest.raises(TransitionNotAllowed):
            method(**kwargs)
        assert task.state == state


def test_problem_task_state_codes_follow_servicenow():
    assert [PROBLEM_TASK_STATE_CODES[s] for s in T] == [151, 152, 154, 157]


@pytest.mark.django_db
def test_problem_task_is_a_task_ticket():
    task = ProblemTask.objects.get(pk=problem_task_in_state("new").pk)
    assert task.kind == "problem_task" and task.number.startswith("PTASK") and len(task.number) == 12
    assert task.problem.number.startswith("PRB")
