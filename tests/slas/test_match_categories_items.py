"""SLA definitions limited to ticket categories and to catalog items: clocks start only on matching tickets, a
category change re-evaluates which definitions apply, the journal replay agrees with the live clocks, and match sets
that do not fit the practice are refused."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.contrib.auth.models import User

from catalog.services import catalog_item_publish
from incidents import services
from itsm.models import Category, Ticket
from slas.conditions import definition_problems
from slas.enums import ClockStage
from slas.models import SLAClock, SLADefinition
from slas.replay import live_states, replay_ticket, sla_recompute_ticket
from tests.conftest import client_for
from tests.factories import incident_factory
from tests.factories.requests import laptop_item, order, ritm_of

pytestmark = pytest.mark.django_db
UTC = ZoneInfo("UTC")
OPEN = ["new", "active", "pending_customer", "pending_third_party"]
DONE = ["resolved", "closed", "cancelled"]


def _definition(practice="incident", **kwargs):
    return SLADefinition.objects.create(
        **{
            "name": "Res",
            "target": "resolution",
            "practice": practice,
            "active": True,
            "duration_seconds": 3600,
            "start_condition": {"state_category": OPEN},
            "stop_condition": {"state_category": DONE},
        }
        | kwargs
    )


@pytest.fixture
def categories(db):
    network = Category.objects.create(practice="incident", name="Network")
    vpn = Category.objects.create(practice="incident", name="VPN", parent=network)
    hardware = Category.objects.create(practice="incident", name="Hardware")
    return network, vpn, hardware


def _replay_agrees(ticket, until):
    live = sorted(s.comparable() for s in live_states(ticket=ticket, until=until))
    base = Ticket.objects.get(pk=ticket.pk)  # the replay reads the kernel row, as the recompute command does
    replayed = sorted(r.state.comparable() for r in replay_ticket(ticket=base, until=until))
    assert live == replayed
    return live


def test_category_definition_starts_only_in_its_category(categories, agent):
    network, _vpn, hardware = categories
    limited = _definition(name="Network 1h")
    limited.match_categories.set([network])
    anywhere = _definition(name="Any 8h", duration_seconds=8 * 3600)
    in_network = incident_factory(by=agent, category=network)
    in_hardware = incident_factory(by=agent, category=hardware)
    uncategorised = incident_factory(by=agent)
    assert {c.definition_id for c in SLAClock.objects.filter(ticket=in_network)} == {limited.pk, anywhere.pk}
    assert {c.definition_id for c in SLAClock.objects.filter(ticket=in_hardware)} == {anywhere.pk}
    assert {c.definition_id for c in SLAClock.objects.filter(ticket=uncategorised)} == {anywhere.pk}


def test_subcategory_in_match_set_matches_by_subcategory(categories, agent):
    network, vpn, _hardware = categories
    limited = _definition(name="VPN 1h")
    limited.match_categories.set([vpn])
    plain = incident_factory(by=agent, category=network)
    on_vpn = incident_factory(by=agent, category=network, subcategory=vpn)
    assert not SLAClock.objects.filter(ticket=plain).exists()
    assert SLAClock.objects.filter(ticket=on_vpn, definition=limited).exists()


def test_category_change_re_evaluates_and_replay_agrees(categories, agent):
    network, _vpn, hardware = categories
    limited = _definition(name="Network 1h")
    limited.match_categories.set([network])
    start = datetime(2026, 11, 23, 9, tzinfo=UTC)
    with time_machine.travel(start, tick=False):
        incident = incident_factory(by=agent, category=hardware)
    assert not SLAClock.objects.filter(ticket=incident).exists()
    with time_machine.travel(start + timedelta(minutes=10), tick=False):
        services.incident_update(incident=incident, by=agent, category=network)
    clock = SLAClock.objects.get(ticket=incident)
    assert clock.stage == ClockStage.IN_PROGRESS and clock.started_at == start + timedelta(minutes=10)
    with time_machine.travel(start + timedelta(minutes=40), tick=False):
        services.incident_update(incident=incident, by=agent, category=hardware)
    clock.refresh_from_db()
    assert clock.stage == ClockStage.CANCELLED and clock.business_elapsed == 30 * 60
    with time_machine.travel(start + timedelta(minutes=50), tick=False):
        services.incident_update(incident=incident, by=agent, category=network)
    assert SLAClock.objects.filter(ticket=incident, stage=ClockStage.IN_PROGRESS).count() == 1
    live = _replay_agrees(incident, start + timedelta(hours=3))
    assert len(live) == 2
    # Recomputing from the journal keeps the same two clocks.
    assert sla_recompute_ticket(ticket=Ticket.objects.get(pk=incident.pk), until=start + timedelta(hours=3)) == 2


def test_catalog_item_definition_starts_only_for_its_items_whatever_the_version(agent, end_user):
    laptop = laptop_item(approval=False, name="Laptop")
    phone = laptop_item(approval=False, name="Phone")
    limited = _definition(practice="requested_item", name="Laptops in 2d", duration_seconds=2 * 86400)
    limited.match_catalog_items.set([laptop])
    start = datetime(2026, 11, 23, 9, tzinfo=UTC)
    with time_machine.travel(start, tick=False):
        on_laptop = ritm_of(order(end_user, laptop))
        on_phone = ritm_of(order(end_user, phone))
        laptop.short_description = "A new laptop, now with a dock"
        laptop.save()
        catalog_item_publish(item=laptop)
        on_new_version = ritm_of(order(end_user, laptop))
    assert on_new_version.item_version_id != on_laptop.item_version_id
    assert SLAClock.objects.filter(ticket=on_laptop, definition=limited).exists()
    assert SLAClock.objects.filter(ticket=on_new_version, definition=limited).exists()
    assert not SLAClock.objects.filter(ticket=on_phone, definition=limited).exists()
    for ritm in (on_laptop, on_phone):
        _replay_agrees(ritm, start + timedelta(hours=5))


def test_match_sets_must_fit_the_practice(categories):
    network = categories[0]
    change_category = Category.objects.create(practice="change", name="Standard")
    laptop = laptop_item(approval=False)
    definition = _definition(name="Mixed")
    definition.match_categories.set([network, change_category])
    definition.match_catalog_items.set([laptop])
    problems = definition_problems(definition)
    assert "Standard" in problems["match_categories"][0] and "Network" not in problems["match_categories"][0]
    assert "requested-item practice" in problems["match_catalog_items"][0]
    # Pending values (a form's) are checked instead of the saved ones.
    assert definition_problems(definition, categories=[network], catalog_items=[]) == {}


def _form(**overrides):
    data = {
        "name": "Resolution",
        "sla_type": "sla",
        "target": "resolution",
        "practice": "incident",
        "order": "10",
        "active": "on",
        "duration": "4h",
        "schedule_source": "definition",
        "thresholds": "[50, 75, 90]",
        "start_categories": OPEN,
        "stop_categories": DONE,
        "actions-TOTAL_FORMS": "0",
        "actions-INITIAL_FORMS": "0",
    }
    return data | overrides


def test_admin_saves_match_sets_and_refuses_ones_of_another_practice(client, categories):
    network = categories[0]
    laptop = laptop_item(approval=False)
    client.force_login(User.objects.create_superuser("root", "root@example.com", "pw"))
    refused = client.post(
        "/admin/slas/sladefinition/add/",
        _form(match_categories=[str(network.pk)], match_catalog_items=[str(laptop.pk)]),
    )
    assert refused.status_code == 200
    assert "Catalog items only apply to the requested-item practice." in refused.content.decode()
    refused = client.post(
        "/admin/slas/sladefinition/add/", _form(practice="requested_item", match_categories=[str(network.pk)])
    )
    assert refused.status_code == 200 and "Not categories of the requested_item practice" in refused.content.decode()
    assert not SLADefinition.objects.exists()
    saved = client.post("/admin/slas/sladefinition/add/", _form(match_categories=[str(network.pk)]))
    assert saved.status_code == 302, saved.content.decode()[:2000]
    definition = SLADefinition.objects.get()
    assert list(definition.match_categories.all()) == [network]
    assert client.get(f"/admin/slas/sladefinition/{definition.pk}/change/").status_code == 200


def test_api_shows_match_sets(categories, agent):
    _network, vpn, _hardware = categories
    laptop = laptop_item(approval=False)
    definition = _definition(practice="requested_item", name="Laptops")
    definition.match_catalog_items.set([laptop])
    other = _definition(name="VPN")
    other.match_categories.set([vpn])
    listed = {d["name"]: d for d in client_for(agent).get("/api/v1/sla-definitions/").json()}
    assert listed["Laptops"]["match_catalog_items"] == ["Laptop"] and listed["Laptops"]["match_categories"] == []
    assert listed["VPN"]["match_categories"] == ["Network / VPN"]


def test_catalog_item_admin_lists_the_definitions_that_apply(client):
    laptop = laptop_item(approval=False, name="Laptop")
    phone = laptop_item(approval=False, name="Phone")
    own = _definition(practice="requested_item", name="Laptops in 2d")
    own.match_catalog_items.set([laptop])
    _definition(practice="requested_item", name="Phones in 1d").match_catalog_items.set([phone])
    _definition(practice="requested_item", name="Every item in 5d")
    _definition(practice="requested_item", name="Draft", active=False)
    _definition(name="Zeta incident resolution")
    client.force_login(User.objects.create_superuser("root", "root@example.com", "pw"))
    page = client.get(f"/admin/catalog/catalogitem/{laptop.pk}/change/").content.decode()
    assert f'href="/admin/slas/sladefinition/{own.pk}/change/">Laptops in 2d</a> (this item)' in page
    assert "Every item in 5d</a> (any item)" in page
    for absent in ("Phones in 1d", "Draft<", "Zeta incident resolution"):
        assert absent not in page
