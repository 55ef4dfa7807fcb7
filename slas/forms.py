"""SLA forms: the compliance report's parameters, validated the same way for the workspace page and the API."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, time, timedelta
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from itsm.enums import TicketKind
from itsm.models import Team
from slas.reports import GROUP_BY_CHOICES

DEFAULT_DAYS = 30
DATE_FORMAT = "%Y-%m-%d"


def _two_years_after(day: date) -> date:
    try:
        return day.replace(year=day.year + 2)
    except ValueError:  # 29 February, or past year 9999
        return date.max if day.year > 9997 else day.replace(year=day.year + 2, day=28)


class SLAComplianceForm(forms.Form):
    """Report window (whole days, both ends included, in the desk's timezone), grouping and filters."""

    start = forms.DateField(
        label=_("From"), input_formats=[DATE_FORMAT], widget=forms.DateInput(attrs={"type": "date"}, format=DATE_FORMAT)
    )
    end = forms.DateField(
        label=_("To"), input_formats=[DATE_FORMAT], widget=forms.DateInput(attrs={"type": "date"}, format=DATE_FORMAT)
    )
    group_by = forms.ChoiceField(label=_("Group by"), choices=GROUP_BY_CHOICES)
    practice = forms.ChoiceField(
        label=_("Practice"), choices=[("", _("All practices")), *TicketKind.choices], required=False
    )
    team = forms.ModelChoiceField(
        label=_("Team"), queryset=Team.objects.only("id", "name"), required=False, empty_label=_("All teams")
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        start, end = data.get("start"), data.get("end")
        for name, day in (("start", start), ("end", end)):
            if day and not date(1970, 1, 2) <= day <= date(9000, 1, 1):
                self.add_error(name, _("Give a date between 1970 and 9000."))
                return data
        if start and end:
            if end < start:
                self.add_error("end", _("The end date must not be before the start date."))
            elif end >= _two_years_after(start):
                self.add_error("end", _("The range may cover at most two years."))
        return data

    def selector_kwargs(self) -> dict[str, Any]:
        """Arguments for slas.reports.sla_compliance: the days as a [start, end) range of aware datetimes."""
        data = self.cleaned_data
        zone = timezone.get_current_timezone()
        return {
            "start": datetime.combine(data["start"], time.min, tzinfo=zone),
            "end": datetime.combine(data["end"] + timedelta(days=1), time.min, tzinfo=zone),
            "group_by": data["group_by"],
            "practice": data["practice"] or None,
            "team": data["team"],
        }


def sla_compliance_form(params: Mapping[str, Any]) -> SLAComplianceForm:
    """The form bound to the query parameters, the missing ones filled with the defaults (the last 30 days by
    SLA definition), so the page and the API answer a bare URL the same way."""
    today = timezone.localdate()
    data = {
        "start": (today - timedelta(days=DEFAULT_DAYS - 1)).strftime(DATE_FORMAT),
        "end": today.strftime(DATE_FORMAT),
        "group_by": "definition",
    }
    for key in ("start", "end", "group_by", "practice", "team"):
        if key in params:
            data[key] = params.get(key)
    return SLAComplianceForm(data)
