"""Conflict detection: the must-show (a change two hops away in the CI graph, a blackout overlap, a double-booked
assignee), scheduling blocked unless a change manager overrides with a journaled reason, and randomly generated
schedules (fixed seed) checked against a brute-force search, both for the pure function and through the database."""

import random
import zoneinfo
from datetime import UTC, datetime, time, timedelta

import pytest
from django.core.exceptions import PermissionDenied

from catalog.models import ConfigurationItem
from changes import services
from changes.conflicts import Slot, WindowRule, find_conflicts, occurrences
from changes.enums import ChangeState as S
from changes.models import Change, ChangeConflict, ChangeWindow
from changes.selectors import change_conflicts_find
from itsm.enums import JournalKind, Role
from tests.factories import AgentFactory, ConfigurationItemFactory, ServiceFactory, change_factory, change_in_state

pytestmark = pytest.mark.django_db

T0 = datetime(2030, 6, 3, 8, 0, tzinfo=UTC)  # a Monday


def _at(hours: float, length: float = 2) -> dict:
    return {"planned_start": T0 + timedelta(hours=hours), "planned_end": T0 + timedelta(hours=hours + length)}


@pytest.fixture
def chain():
    """web -> app -> db -> storage (each depends on the next)."""
    cis = {name: ConfigurationItemFactory(name=name) for name in ("web", "app", "db", "storage")}
    cis["web"].depends_on.add(cis["app"])
    cis["app"].depends_on.add(cis["db"])
    cis["db"].depends_on.add(cis["storage"])
    return cis


def _kinds(change: Change) -> set[tuple[str, str | None]]:
    return {
        (c.kind, c.other_change.number if c.other_change else None)
        for c in ChangeConflict.objects.filter(change=change).select_related("other_change")
    }


# --- the must-show --------------------------------------------------------------------------------------------


def test_change_on_a_ci_two_hops_away_conflicts(agent, chain):
    deep = change_factory(by=agent, affected_cis=[chain["db"]], **_at(1))
    new = change_factory(by=agent, affected_cis=[chain["web"]], **_at(0))
    found = change_conflicts_find(change=new)
    assert [(c.kind, c.other_id) for c in found] == [("dependency", deep.pk)]
    assert "db, which web depends on (2 hops)" in found[0].reason
    # Stored on both sides, and the other side reads the relation the other way round.
    assert _kinds(new) == {("dependency", deep.number)}
    assert _kinds(deep) == {("dependency", new.number)}
    assert "web, which depends on db (2 hops)" in ChangeConflict.objects.get(change=deep).reason


def test_dependency_depth_is_a_setting(agent, chain, settings):
    change_factory(by=agent, affected_cis=[chain["storage"]], **_at(0))  # three hops from web
    new = change_factory(by=agent, affected_cis=[chain["web"]], **_at(0))
    assert [c.kind for c in change_conflicts_find(change=new)] == ["dependency"]
    settings.ITSM_CHANGE_CONFLICT_DEPTH = 2
    assert change_conflicts_find(change=new) == []


def test_sibling_changes_sharing_a_dependency_do_not_conflict(agent):
    web, api, db = (ConfigurationItemFactory(name=n) for n in ("web", "api", "db"))
    web.depends_on.add(db)
    api.depends_on.add(db)
    change_factory(by=agent, affected_cis=[api], **_at(0))
    new = change_factory(by=agent, affected_cis=[web], **_at(0))
    assert change_conflicts_find(change=new) == []


def test_blackout_overlap_and_double_booked_assignee(agent, chain):
    ChangeWindow.objects.create(
        kind="blackout", name="Quarter-end freeze", start=T0 + timedelta(hours=1), end=T0 + timedelta(days=2)
    )
    other = change_factory(by=agent, assigned_to=agent, **_at(-1))  # no CI in common, same assignee
    new = change_factory(by=agent, assigned_to=agent, affected_cis=[chain["web"]], **_at(0))
    reasons = {c.kind: c.reason for c in change_conflicts_find(change=new)}
    assert set(reasons) == {"blackout", "assignee"}
    assert "Quarter-end freeze" in reasons["blackout"]
    assert reasons["assignee"].startswith(f"{agent.username} is also assigned {other.number}")


def test_adjacent_windows_do_not_overlap(agent, chain):
    change_factory(by=agent, affected_cis=[chain["web"]], **_at(0, 2))
    new = change_factory(by=agent, affected_cis=[chain["web"]], **_at(2, 2))
    assert change_conflicts_find(change=new) == []


def test_outside_the_ci_maintenance_window(agent, chain):
    window = ChangeWindow.objects.create(
        kind="maintenance", name="DB Sunday", recurrence="weekly", weekdays="7", start_time=time(1), end_time=time(5)
    )
    window.configuration_items.add(chain["db"])
    monday = change_factory(by=agent, affected_cis=[chain["db"]], **_at(0))
    sunday = change_factory(
        by=agent,
        affected_cis=[chain["db"]],
        planned_start=datetime(2030, 6, 9, 2, tzinfo=UTC),
        planned_end=datetime(2030, 6, 9, 4, tzinfo=UTC),
    )
    elsewhere = change_factory(by=agent, affected_cis=[chain["web"]], **_at(0))  # web has no maintenance window
    found = {(c.kind, c.other_id or c.ci_id) for c in change_conflicts_find(change=monday)}
    assert found == {("maintenance", chain["db"].pk), ("dependency", elsewhere.pk)}
    assert change_conflicts_find(change=sunday) == []
    assert [c.kind for c in change_conflicts_find(change=elsewhere)] == ["dependency"]  # with `monday`, not a window


def test_conflicts_block_schedule_unless_a_change_manager_overrides(agent, chain):
    change_factory(by=agent, affected_cis=[chain["web"]], **_at(0))
    change = change_in_state("scheduled", by=agent, affected_cis=[chain["web"]], **_at(1))
    assert change.state == S.AUTHORIZE and change.approval == "approved"  # approved, held back by its conflict
    assert "Not scheduled: 1 conflict(s)" in change.journal.filter(kind=JournalKind.WORK_NOTE).last().body

    with pytest.raises(services.ChangeConflictError) as refused:
        services.change_schedule(change=change, by=agent)
    assert [c.kind for c in refused.value.conflicts] == ["same_ci"]
    with pytest.raises(PermissionDenied):
        services.change_schedule(change=change, by=agent, override_reason="I know")
    assert Change.objects.get(pk=change.pk).state == S.AUTHORIZE

    manager = AgentFactory(role=Role.CHANGE_MANAGER)
    services.change_schedule(change=change, by=manager, override_reason="Both touch web; the teams coordinate.")
    change = Change.objects.get(pk=change.pk)
    assert change.state == S.SCHEDULED
    note = change.journal.filter(kind=JournalKind.WORK_NOTE).last()
    assert note.actor == manager and "Conflicts overridden by" in note.body and "the teams coordinate" in note.body
    assert "also changes web" in note.body


def test_conflicts_follow_plan_changes_and_leave_with_a_canceled_change(agent, chain):
    first = change_factory(by=agent, affected_cis=[chain["web"]], **_at(0))
    second = change_factory(by=agent, affected_cis=[chain["web"]], **_at(5))
    assert not ChangeConflict.objects.exists()
    services.change_update(change=second, by=agent, **_at(1))
    assert _kinds(first) == {("same_ci", second.number)} and _kinds(second) == {("same_ci", first.number)}
    services.change_update(change=second, by=agent, affected_cis=[chain["storage"]])  # three hops: still related
    assert _kinds(first) == {("dependency", second.number)}
    services.change_cancel(change=second, by=agent, reason="Not needed")
    assert not ChangeConflict.objects.exists()


def test_window_edits_recompute_planned_changes(agent, chain):
    change = change_factory(by=agent, affected_cis=[chain["web"]], **_at(0))
    ChangeWindow.objects.create(kind="blackout", name="Freeze", start=T0, end=T0 + timedelta(days=1))
    services.change_conflicts_refresh_planned()
    assert _kinds(change) == {("blackout", None)}


def test_conflict_search_reads_only_overlapping_changes(agent, chain, django_assert_max_num_queries):
    """The query count does not grow with the number of changes: only the window's overlap is read."""
    new = change_factory(by=agent, assigned_to=agent, affected_cis=[chain["web"]], **_at(0))
    for day in range(1, 30):
        change_factory(by=agent, assigned_to=agent, affected_cis=[chain["db"]], **_at(24 * day))
    with django_assert_max_num_queries(16):
        assert change_conflicts_find(change=new) == []


# --- random schedules against a brute-force search ------------------------------------------------------------

QUARTER = timedelta(minutes=15)


def _in_window(rule: WindowRule, instant: datetime) -> bool:
    """Whether an instant falls in a window, decided from the instant's local time alone."""
    if rule.once:
        return rule.start <= instant < rule.end
    zone = zoneinfo.ZoneInfo(rule.time_zone)
    local = instant.astimezone(zone)
    for day, after_midnight in ((local.date(), False), (local.date() - timedelta(days=1), True)):
        if day.isoweekday() not in rule.weekdays:
            continue
        if (rule.valid_from and day < rule.valid_from) or (rule.valid_until and day > rule.valid_until):
            continue
        crosses = rule.end_time <= rule.start_time
        if not after_midnight and local.time() >= rule.start_time and (crosses or local.time() < rule.end_time):
            return True
        if after_midnight and crosses and local.time() < rule.end_time:
            return True
    return False


def _quarters(start: datetime, end: datetime):
    instant = start
    while instant < end:
        yield instant
        instant += QUARTER


def _paths(edges: dict[int, set[int]], nodes: list[int], depth: int) -> set[tuple[int, int]]:
    """(a, b) with a directed path a -> b of 1..depth edges, by boolean matrix powers."""
    power = {(a, b) for a in nodes for b in edges.get(a, ())}
    step, found = set(power), set(power)
    for _ in range(depth - 1):
        step = {(a, c) for (a, b) in step for c in edges.get(b, ())}
        found |= step
    return found


def _brute_force(change: Slot, others: list[Slot], edges, nodes, depth, windows, ci_services) -> set[tuple]:
    related = _paths(edges, nodes, depth)
    expected = set()
    for other in others:
        if other.id == change.id or not (change.start < other.end and other.start < change.end):
            continue
        if change.ci_ids & other.ci_ids:
            expected.add(("same_ci", other.id))
        elif any((a, b) in related or (b, a) in related for a in change.ci_ids for b in other.ci_ids):
            expected.add(("dependency", other.id))
        if change.assignee_id is not None and change.assignee_id == other.assignee_id:
            expected.add(("assignee", other.id))

    def applies(rule, cis, svcs):
        return (not rule.ci_ids and not rule.service_ids) or rule.ci_ids & set(cis) or rule.service_ids & set(svcs)

    for rule in windows:
        in_scope = rule.kind == "blackout" and applies(rule, change.ci_ids, change.service_ids)
        if in_scope and any(_in_window(rule, q) for q in _quarters(change.start, change.end)):
            expected.add(("blackout", rule.id))
    for ci in change.ci_ids:
        own = [r for r in windows if r.kind == "maintenance" and applies(r, [ci], [ci_services.get(ci)])]
        if own and not all(any(_in_window(r, q) for r in own) for q in _quarters(change.start, change.end)):
            expected.add(("maintenance", ci))
    return expected


def _identity(conflict) -> tuple:
    if conflict.kind == "maintenance":
        return ("maintenance", conflict.ci_id)
    if conflict.kind == "blackout":
        return ("blackout", conflict.window_id)
    return (conflict.kind, conflict.other_id)


def _random_case(rng: random.Random, base: int = 0):
    """CIs with a random dependency graph, services, windows and changes on a 15-minute grid over two weeks."""
    nodes = list(range(base + 1, base + rng.randint(4, 12)))
    edges: dict[int, set[int]] = {}
    for a in nodes:
        for b in nodes:
            if a != b and rng.random() < 0.18:
                edges.setdefault(a, set()).add(b)
    ci_services = {ci: rng.choice([None, base + 101, base + 102]) for ci in nodes}
    week = datetime(2030, 6, 3, tzinfo=UTC)

    def when(max_hours: int):
        start = week + QUARTER * rng.randrange(0, 14 * 24 * 4)
        return start, start + QUARTER * rng.randint(1, max_hours * 4)

    windows = []
    for number in range(rng.randint(0, 4)):
        kind = rng.choice(["blackout", "maintenance"])
        scope = rng.choice(["global", "cis", "service"])
        ci_ids = frozenset(rng.sample(nodes, rng.randint(1, 2))) if scope == "cis" else frozenset()
        service_ids = frozenset({base + 101}) if scope == "service" else frozenset()
        if rng.random() < 0.5:
            start, end = when(72)
            rule = WindowRule(number + 1, kind, f"w{number}", True, start=start, end=end)
        else:
            start_time = time(rng.randrange(24), rng.choice([0, 15, 30, 45]))
            end_time = time(rng.randrange(24), rng.choice([0, 15, 30, 45]))
            weekdays = frozenset(rng.sample(range(1, 8), rng.randint(1, 4)))
            zone = rng.choice(["UTC", "Europe/London", "Asia/Kolkata"])
            rule = WindowRule(
                number + 1,
                kind,
                f"w{number}",
                False,
                weekdays=weekdays,
                start_time=start_time,
                end_time=end_time,
                time_zone=zone,
            )
        windows.append(WindowRule(**{**rule.__dict__, "ci_ids": ci_ids, "service_ids": service_ids}))
    slots = []
    for number in range(rng.randint(2, 9)):
        start, end = when(10)
        cis = frozenset(rng.sample(nodes, rng.randint(0, min(3, len(nodes)))))
        slots.append(
            Slot(
                id=base + 1000 + number,
                number=f"CHG{number}",
                start=start,
                end=end,
                ci_ids=cis,
                service_ids=frozenset(ci_services[ci] for ci in cis if ci_services[ci]),
                assignee_id=rng.choice([None, 1, 2, 3]),
            )
        )
    return nodes, edges, ci_services, windows, slots


def test_random_schedules_pure_function_misses_nothing():
    rng = random.Random(20261127)
    checked = found_total = 0
    for _case in range(400):
        nodes, edges, ci_services, windows, slots = _random_case(rng)
        depth = rng.choice([1, 2, 3])
        for change in slots:
            got = find_conflicts(
                change=change, others=slots, depends_on=edges, depth=depth, windows=windows, ci_services=ci_services
            )
            assert len({_identity(c) for c in got}) == len(got)  # no duplicates
            expected = _brute_force(change, slots, edges, nodes, depth, windows, ci_services)
            assert {_identity(c) for c in got} == expected, (change, slots, edges, windows)
            checked += 1
            found_total += len(got)
    assert checked > 1000 and found_total > 500  # the cases do produce conflicts of every kind


def test_random_schedules_through_the_database_miss_nothing(agent):
    """The stored conflicts (gathered with the overlap, graph and window queries) equal the brute force's answer."""
    rng = random.Random(4)
    assignees = {n: AgentFactory(username=f"assignee{n}") for n in (1, 2, 3)}
    kinds_seen = set()
    for case in range(30):
        nodes, edges, ci_services, windows, slots = _random_case(rng, base=case * 1000)
        services_db = {sid: ServiceFactory(name=f"svc-{sid}") for sid in (case * 1000 + 101, case * 1000 + 102)}
        cis = {
            n: ConfigurationItem.objects.create(name=f"ci-{n}", service=services_db.get(ci_services[n])) for n in nodes
        }
        for a, targets in edges.items():
            cis[a].depends_on.add(*(cis[b] for b in targets))
        ChangeWindow.objects.all().delete()
        window_ids = {}
        for rule in windows:
            window = ChangeWindow.objects.create(
                kind=rule.kind,
                name=rule.name,
                recurrence="once" if rule.once else "weekly",
                start=rule.start,
                end=rule.end,
                weekdays=",".join(map(str, sorted(rule.weekdays))),
                start_time=rule.start_time,
                end_time=rule.end_time,
                time_zone=rule.time_zone,
            )
            window.configuration_items.set([cis[c] for c in rule.ci_ids])
            window.services.set([services_db[s] for s in rule.service_ids])
            window_ids[window.pk] = rule.id
        changes = {}
        for slot in slots:
            change = change_factory(
                by=agent,
                assigned_to=assignees.get(slot.assignee_id),
                planned_start=slot.start,
                planned_end=slot.end,
                affected_cis=[cis[c] for c in slot.ci_ids],
            )
            changes[change.pk] = slot.id
        ci_back = {ci.pk: n for n, ci in cis.items()}
        for pk, slot_id in changes.items():
            stored = {
                (row.kind, row.other_change_id, row.window_id, row.configuration_item_id)
                for row in ChangeConflict.objects.filter(change_id=pk)
            }
            got = set()
            for kind, other, window, ci in stored:
                if kind == "maintenance":
                    got.add((kind, ci_back[ci]))
                elif kind == "blackout":
                    got.add((kind, window_ids[window]))
                else:
                    got.add((kind, changes[other]))
            slot = next(s for s in slots if s.id == slot_id)
            expected = _brute_force(slot, slots, edges, nodes, 3, windows, ci_services)
            assert got == expected, (case, slot, slots, edges, windows)
            kinds_seen |= {kind for kind, _what in got}
        Change.objects.filter(pk__in=changes).update(planned_start=None, planned_end=None)  # out of later cases
    assert kinds_seen == {"same_ci", "dependency", "blackout", "maintenance", "assignee"}


def test_weekly_occurrences_follow_local_time_across_dst():
    rule = WindowRule(
        1,
        "maintenance",
        "London Sunday",
        False,
        weekdays=frozenset({7}),
        start_time=time(3),
        end_time=time(5),
        time_zone="Europe/London",
    )
    march = list(occurrences(rule, datetime(2030, 3, 20, tzinfo=UTC), datetime(2030, 4, 3, tzinfo=UTC)))
    # 24 March 2030 is still GMT; on 31 March London is on BST (UTC+1) from 01:00 UTC.
    assert march == [
        (datetime(2030, 3, 24, 3, tzinfo=UTC), datetime(2030, 3, 24, 5, tzinfo=UTC)),
        (datetime(2030, 3, 31, 2, tzinfo=UTC), datetime(2030, 3, 31, 4, tzinfo=UTC)),
    ]
    overnight = WindowRule(
        2, "blackout", "Nightly", False, weekdays=frozenset({1}), start_time=time(22), end_time=time(2)
    )
    assert list(occurrences(overnight, datetime(2030, 6, 4, 1, tzinfo=UTC), datetime(2030, 6, 4, 3, tzinfo=UTC))) == [
        (datetime(2030, 6, 3, 22, tzinfo=UTC), datetime(2030, 6, 4, 2, tzinfo=UTC))
    ]


def test_ci_graph_edits_recompute_planned_changes(agent):
    web, db = ConfigurationItemFactory(name="web"), ConfigurationItemFactory(name="db")
    first = change_factory(by=agent, affected_cis=[web], **_at(0))
    second = change_factory(by=agent, affected_cis=[db], **_at(0))
    assert not ChangeConflict.objects.exists()
    web.depends_on.add(db)
    assert _kinds(first) == {("dependency", second.number)} and _kinds(second) == {("dependency", first.number)}
    web.depends_on.remove(db)
    assert not ChangeConflict.objects.exists()
    app = ConfigurationItemFactory(name="app")
    web.depends_on.add(app)
    db.dependents.add(app)  # from the other side: app -> db, so web is two hops above db
    assert _kinds(first) == {("dependency", second.number)}
    assert "db, which web depends on (2 hops)" in ChangeConflict.objects.get(change=first).reason
