"""Change services: the CAB must-show (2 of 3 in parallel, one rejection back to New), the type paths, the risk
questionnaire, the guards and permissions."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django_fsm import TransitionNotAllowed

from changes import services
from changes.enums import ChangeState as S
from changes.models import Change, RiskAnswerOption, RiskQuestion
from itsm.enums import JournalKind
from itsm.models import Approval, ApprovalStage, JournalEntry
from itsm.services import approval_approve, approval_reject
from tests.factories import (
    AgentFactory,
    UserFactory,
    approval_policy_factory,
    change_factory,
    change_in_state,
    change_template_factory,
    planned_window,
)

pytestmark = pytest.mark.django_db


def _questionnaire():
    """Two questions: 'impact' (0 / 4 / 8) and 'tested' (0 / 5)."""
    impact = RiskQuestion.objects.create(text="What breaks if it fails?", order=1)
    tested = RiskQuestion.objects.create(text="Was it tested?", order=2)
    options = {
        "nothing": RiskAnswerOption.objects.create(question=impact, label="Nothing", score=0),
        "one": RiskAnswerOption.objects.create(question=impact, label="One service", score=4),
        "many": RiskAnswerOption.objects.create(question=impact, label="Many services", score=8),
        "yes": RiskAnswerOption.objects.create(question=tested, label="Yes, in staging", score=0),
        "no": RiskAnswerOption.objects.create(question=tested, label="No", score=5),
    }
    return impact, tested, options


@pytest.fixture
def cab():
    """Three CAB members; normal High-risk changes need two of them, in parallel."""
    members = [AgentFactory(username=f"cab{i}") for i in (1, 2, 3)]
    approval_policy_factory(
        approvers=members, rule="n_of_m", required=2, name="CAB high", ticket_type="normal", risk="high", order=1
    )
    return members


def _high_risk_change(agent):
    impact, tested, options = _questionnaire()
    change = change_factory(by=agent)
    services.change_assess(change=change, by=agent)
    services.change_assess_risk(
        change=change, by=agent, answers={impact.pk: options["many"].pk, tested.pk: options["no"].pk}
    )
    assert change.risk == "high" and change.risk_score == 13
    return change


def test_cab_two_of_three_one_rejection_returns_change_to_new(agent, cab):
    impact, tested, options = _questionnaire()
    change = change_factory(by=agent)
    services.change_assess(change=change, by=agent)
    services.change_assess_risk(
        change=change, by=agent, answers={impact.pk: options["many"].pk, tested.pk: options["no"].pk}
    )
    assert change.risk == "high" and change.risk_score == 13
    services.change_request_approval(change=change, by=agent)
    approvals = {a.approver.username: a for a in Approval.objects.filter(ticket=change)}
    assert set(approvals) == {"cab1", "cab2", "cab3"} and {a.state for a in approvals.values()} == {"requested"}

    approval_approve(approval=approvals["cab1"], by=cab[0], comment="Fine")
    approval_reject(approval=approvals["cab2"], by=cab[1], comment="Backout plan is too thin")

    change = Change.objects.get(pk=change.pk)
    assert change.state == S.NEW and change.approval == "rejected"
    states = dict(Approval.objects.filter(ticket=change).values_list("approver__username", "state"))
    assert states == {"cab1": "approved", "cab2": "rejected", "cab3": "withdrawn"}
    assert change.journal.filter(kind=JournalKind.TRANSITION, transition="revert_to_new").exists()


def test_cab_two_of_three_approvals_schedule_the_change(agent, cab):
    change = _high_risk_change(agent)
    services.change_request_approval(change=change, by=agent)
    approvals = {a.approver.username: a for a in Approval.objects.filter(ticket=change)}

    approval_approve(approval=approvals["cab1"], by=cab[0])
    assert Change.objects.get(pk=change.pk).state == S.AUTHORIZE  # one of two
    approval_approve(approval=approvals["cab3"], by=cab[2])

    change = Change.objects.get(pk=change.pk)
    assert change.state == S.SCHEDULED and change.approval == "approved"
    states = dict(Approval.objects.filter(ticket=change).values_list("approver__username", "state"))
    assert states == {"cab1": "approved", "cab2": "skipped", "cab3": "approved"}
    scheduled = change.journal.get(transition="schedule")
    assert scheduled.actor == cab[2]


def test_emergency_change_cannot_skip_authorize(agent):
    change = change_factory(by=agent, change_type="emergency")
    for name in ("assess", "schedule"):
        with pytest.raises(TransitionNotAllowed):
            getattr(services, f"change_{name}")(change=change, by=agent)
    assert Change.objects.get(pk=change.pk).state == S.NEW
    approver = AgentFactory()
    approval_policy_factory(approvers=[approver], name="ECAB", ticket_type="emergency")
    services.change_request_approval(change=change, by=agent)
    assert change.state == S.AUTHORIZE
    with pytest.raises(TransitionNotAllowed):  # not before the ECAB approves
        services.change_schedule(change=change, by=agent)
    approval_approve(approval=Approval.objects.get(ticket=change), by=approver)
    assert Change.objects.get(pk=change.pk).state == S.SCHEDULED


def test_standard_change_from_template_goes_straight_to_scheduled(agent, team):
    template = change_template_factory(assignment_group=team)
    change = services.change_create_from_template(template=template, by=agent, **planned_window())
    change = Change.objects.get(pk=change.pk)
    assert change.state == S.SCHEDULED and change.change_type == "standard" and change.risk == "low"
    assert change.assignment_group == team and change.implementation_plan == template.implementation_plan
    assert list(change.journal.filter(kind="transition").values_list("transition", flat=True)) == [
        "create",
        "schedule",
    ]
    assert not Approval.objects.filter(ticket=change).exists()


def test_standard_change_without_window_waits_in_new_and_schedule_needs_the_window(agent):
    change = services.change_create_from_template(template=change_template_factory(), by=agent)
    assert change.state == S.NEW
    with pytest.raises(ValidationError) as error:
        services.change_schedule(change=change, by=agent)
    assert set(error.value.message_dict) == {"planned_start", "planned_end"}
    assert Change.objects.get(pk=change.pk).state == S.NEW


def test_change_create_refuses_standard_without_template_and_end_before_start(agent):
    window = planned_window()
    with pytest.raises(ValidationError) as error:
        change_factory(by=agent, change_type="standard")
    assert "change_type" in error.value.message_dict
    with pytest.raises(ValidationError) as error:
        change_factory(by=agent, planned_start=window["planned_end"], planned_end=window["planned_start"])
    assert "planned_end" in error.value.message_dict
    assert not Change.objects.exists()


def test_change_type_changes_only_in_new(agent):
    change = change_factory(by=agent)
    services.change_update(change=change, by=agent, change_type="emergency")
    assert change.journal.filter(field="change_type", new_value="emergency").exists()
    services.change_update(change=change, by=agent, change_type="normal")
    services.change_assess(change=change, by=agent)
    with pytest.raises(ValidationError) as error:
        services.change_update(change=change, by=agent, change_type="emergency")
    assert "change_type" in error.value.message_dict
    assert Change.objects.get(pk=change.pk).change_type == "normal"


def test_request_approval_needs_plans_and_a_policy(agent):
    change = change_factory(by=agent, backout_plan="")
    services.change_assess(change=change, by=agent)
    with pytest.raises(ValidationError) as error:
        services.change_request_approval(change=change, by=agent)
    assert set(error.value.message_dict) == {"backout_plan"}
    services.change_update(change=change, by=agent, backout_plan="Restore")
    with pytest.raises(ValidationError) as error:
        services.change_request_approval(change=change, by=agent)
    assert "approval_policy" in error.value.message_dict
    assert Change.objects.get(pk=change.pk).state == S.ASSESS


def test_review_needs_close_code_and_notes_close_needs_review_notes(agent):
    change = change_in_state("implement", by=agent)
    with pytest.raises(ValidationError) as error:
        services.change_review(change=change, by=agent, close_code="great", close_notes=" ")
    assert set(error.value.message_dict) == {"close_code", "close_notes"}
    services.change_review(change=change, by=agent, close_code="successful_with_issues", close_notes="One retry.")
    with pytest.raises(ValidationError) as error:
        services.change_close(change=change, by=agent, review_notes="")
    assert "review_notes" in error.value.message_dict
    services.change_close(change=change, by=agent, review_notes="Add a retry to the runbook.")
    change = Change.objects.get(pk=change.pk)
    assert change.state == S.CLOSED and change.close_code == "successful_with_issues"
    assert change.actual_start and change.actual_end and change.closed_at


def test_cancel_and_revert_withdraw_pending_approvals(agent):
    change = change_in_state("authorize", by=agent)
    services.change_cancel(change=change, by=agent, reason="Superseded")
    assert set(Approval.objects.filter(ticket=change).values_list("state", flat=True)) == {"withdrawn"}
    other = change_in_state("authorize", by=agent)
    services.change_revert_to_new(change=other, by=agent, reason="Wrong window")
    other = Change.objects.get(pk=other.pk)
    assert other.state == S.NEW and other.approval == "not_requested"
    assert set(Approval.objects.filter(ticket=other).values_list("state", flat=True)) == {"withdrawn"}


def test_only_the_approver_decides_and_only_once(agent):
    change = change_in_state("authorize", by=agent)
    approval = Approval.objects.get(ticket=change)
    with pytest.raises(PermissionDenied):
        approval_approve(approval=approval, by=AgentFactory())
    approval_approve(approval=approval, by=approval.approver)
    with pytest.raises(TransitionNotAllowed):
        approval_reject(approval=approval, by=approval.approver, comment="changed my mind")


def test_reject_needs_a_comment(agent):
    change = change_in_state("authorize", by=agent)
    approval = Approval.objects.get(ticket=change)
    with pytest.raises(ValidationError) as error:
        approval_reject(approval=approval, by=approval.approver, comment=" ")
    assert "comment" in error.value.message_dict
    assert Approval.objects.get(pk=approval.pk).state == "requested"


def test_sequential_stages_ask_the_next_stage_when_the_first_is_met(agent, team):
    first, second = AgentFactory(), AgentFactory()
    team.members.add(second)
    policy = approval_policy_factory(approvers=[first], name="Two stages")
    ApprovalStage.objects.create(policy=policy, number=2, source="team", team=team, rule="all")
    change = change_in_state("assess", by=agent)
    services.change_request_approval(change=change, by=agent)
    assert list(Approval.objects.filter(ticket=change).values_list("approver", flat=True)) == [first.pk]
    approval_approve(approval=Approval.objects.get(ticket=change, approver=first), by=first)
    assert Change.objects.get(pk=change.pk).state == S.AUTHORIZE
    stage_two = Approval.objects.filter(ticket=change, stage=2)
    assert set(stage_two.values_list("approver", flat=True)) == set(team.members.values_list("pk", flat=True))
    for approval in stage_two:
        approval_approve(approval=approval, by=approval.approver)
    assert Change.objects.get(pk=change.pk).state == S.SCHEDULED


def test_risk_assessment_explains_each_answer_and_uses_the_thresholds(agent):
    impact, tested, options = _questionnaire()
    change = change_factory(by=agent)
    services.change_assess_risk(
        change=change, by=agent, answers={impact.pk: options["one"].pk, tested.pk: options["yes"].pk}
    )
    assert change.risk == "low" and change.risk_score == 4
    assert "What breaks if it fails?: One service (+4)" in change.risk_explanation
    assert "Total 4: Low" in change.risk_explanation
    services.change_assess_risk(
        change=change, by=agent, answers={impact.pk: options["many"].pk, tested.pk: options["no"].pk}
    )
    change = Change.objects.get(pk=change.pk)
    assert change.risk == "high" and change.risk_score == 13 and change.risk_answers.count() == 2
    assert change.journal.filter(field="risk", new_value="high").exists()


@pytest.mark.parametrize(
    "answers",
    [{}, {"first": "only"}, {"first": "wrong-option"}, {"first": "one", "other": 999}],
)
def test_risk_assessment_refuses_incomplete_or_foreign_answers(agent, answers):
    impact, tested, options = _questionnaire()
    stray = RiskAnswerOption.objects.create(question=RiskQuestion.objects.create(text="Old", active=False), label="x")
    mapping = {
        "only": {impact.pk: options["one"].pk},
        "wrong-option": {impact.pk: options["yes"].pk, tested.pk: stray.pk},
    }
    raw = mapping.get(answers.get("first"), {})
    if answers.get("other"):
        raw = {impact.pk: options["one"].pk, tested.pk: options["yes"].pk, answers["other"]: stray.pk}
    change = change_factory(by=agent)
    entries = JournalEntry.objects.count()
    with pytest.raises(ValidationError) as error:
        services.change_assess_risk(change=change, by=agent, answers=raw)
    assert "answers" in error.value.message_dict
    assert JournalEntry.objects.count() == entries and not change.risk_answers.exists()


def test_end_users_cannot_raise_or_work_changes(agent):
    user = UserFactory()
    with pytest.raises(PermissionDenied):
        change_factory(by=user)
    change = change_factory(by=agent)
    with pytest.raises(PermissionDenied):
        services.change_assess(change=change, by=user)
