"""Schedule admin: inline spans in HH:MM, overlap refused, holidays filled from the country calendar."""

import pytest
from django.contrib.auth.models import User

from slas.models import Schedule
from slas.services import SpanInput, schedule_save

pytestmark = pytest.mark.django_db


@pytest.fixture
def superuser(db):
    return User.objects.create_superuser("root", "root@example.com", "pw")


def _post_data(spans, name="Office"):
    data = {
        "name": name,
        "timezone": "Europe/London",
        "description": "",
        "holiday_country": "GB",
        "holiday_subdivision": "ENG",
        "active": "on",
        "spans-TOTAL_FORMS": str(len(spans)),
        "spans-INITIAL_FORMS": "0",
        "holidays-TOTAL_FORMS": "0",
        "holidays-INITIAL_FORMS": "0",
    }
    for i, (weekday, start, end) in enumerate(spans):
        data |= {f"spans-{i}-weekday": str(weekday), f"spans-{i}-start": start, f"spans-{i}-end": end}
    return data


def test_admin_creates_schedule_with_spans(client, superuser):
    client.force_login(superuser)
    response = client.post("/admin/slas/schedule/add/", _post_data([(0, "09:00", "12:00"), (0, "13:00", "17:00")]))
    assert response.status_code == 302, response.content.decode()[:2000]
    schedule = Schedule.objects.get(name="Office")
    assert [(s.start, s.end) for s in schedule.spans.all()] == [(9 * 3600, 12 * 3600), (13 * 3600, 17 * 3600)]
    page = client.get(f"/admin/slas/schedule/{schedule.pk}/change/")
    assert page.status_code == 200 and 'value="09:00"' in page.content.decode()


def test_admin_refuses_overlapping_spans_and_bad_timezone(client, superuser):
    client.force_login(superuser)
    response = client.post("/admin/slas/schedule/add/", _post_data([(0, "09:00", "13:00"), (0, "12:00", "17:00")]))
    assert response.status_code == 200 and "must not overlap" in response.content.decode()
    bad = _post_data([]) | {"timezone": "Nowhere/Land"}
    response = client.post("/admin/slas/schedule/add/", bad)
    assert response.status_code == 200 and "IANA" in response.content.decode()
    assert not Schedule.objects.exists()


def test_admin_fill_holidays_action(client, superuser):
    schedule = schedule_save(by=superuser, name="UK", timezone="Europe/London", spans=[SpanInput(0, 0, 3600)])
    schedule.holiday_country, schedule.holiday_subdivision = "GB", "ENG"
    schedule.save()
    client.force_login(superuser)
    response = client.post(
        "/admin/slas/schedule/", {"action": "fill_holidays", "_selected_action": [schedule.pk]}, follow=True
    )
    assert response.status_code == 200
    names = set(schedule.holidays.values_list("name", flat=True))
    assert "Christmas Day" in names and len(names) >= 8
    count = schedule.holidays.count()
    client.post("/admin/slas/schedule/", {"action": "fill_holidays", "_selected_action": [schedule.pk]})
    assert schedule.holidays.count() == count  # idempotent


def test_admin_refuses_the_same_yearly_holiday_twice(client, superuser):
    client.force_login(superuser)
    data = _post_data([(0, "09:00", "17:00")]) | {
        "holidays-TOTAL_FORMS": "2",
        "holidays-0-date": "2026-12-25",
        "holidays-0-name": "Christmas",
        "holidays-0-yearly": "on",
        "holidays-1-date": "2027-12-25",
        "holidays-1-name": "Christmas again",
        "holidays-1-yearly": "on",
    }
    response = client.post("/admin/slas/schedule/add/", data)
    assert response.status_code == 200 and "only once" in response.content.decode()
    assert not Schedule.objects.exists()
