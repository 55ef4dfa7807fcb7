"""Admin for the SLA engine: schedules edited as one unit (spans and holidays inline), holidays filled by country."""

from __future__ import annotations

from datetime import date

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.forms.models import BaseInlineFormSet
from django.utils.translation import gettext_lazy as _

from slas.business_time import format_clock, parse_clock
from slas.models import Holiday, Schedule, ScheduleSpan
from slas.services import SpanInput, schedule_fill_holidays, schedule_validate


class ClockField(forms.CharField):
    """HH:MM in the form, seconds of the day in the database."""

    def prepare_value(self, value):
        return format_clock(value) if isinstance(value, int) else value

    def to_python(self, value):
        value = super().to_python(value)
        if value in self.empty_values:
            return None
        try:
            return parse_clock(value)
        except ValueError as exc:
            raise ValidationError(str(exc)) from None


class ScheduleSpanForm(forms.ModelForm):
    start = ClockField(label=_("start"), help_text=_("HH:MM"))
    end = ClockField(label=_("end"), help_text=_("HH:MM; 24:00 is the end of the day"))

    class Meta:
        model = ScheduleSpan
        fields = ["weekday", "start", "end"]


class SpanFormSet(BaseInlineFormSet):
    def clean(self) -> None:
        super().clean()
        spans = [
            SpanInput(form.cleaned_data["weekday"], form.cleaned_data["start"], form.cleaned_data["end"])
            for form in self.forms
            if form.cleaned_data and not form.cleaned_data.get("DELETE")
        ]
        try:
            schedule_validate(timezone=self.instance.timezone or "UTC", spans=spans, holidays=[])
        except ValidationError as exc:
            if "spans" in exc.message_dict:
                raise ValidationError(exc.message_dict["spans"]) from None


class ScheduleSpanInline(admin.TabularInline):
    model = ScheduleSpan
    form = ScheduleSpanForm
    formset = SpanFormSet
    extra = 0


class HolidayInline(admin.TabularInline):
    model = Holiday
    extra = 0


class ScheduleForm(forms.ModelForm):
    timezone = forms.CharField(help_text=_("IANA name, e.g. Europe/Berlin"))

    class Meta:
        model = Schedule
        fields = ["name", "timezone", "description", "holiday_country", "holiday_subdivision", "active"]

    def clean_timezone(self):
        value = self.cleaned_data["timezone"]
        try:
            schedule_validate(timezone=value, spans=[], holidays=[])
        except ValidationError as exc:
            raise ValidationError(exc.message_dict["timezone"]) from None
        return value


@admin.register(Schedule)
class ScheduleAdmin(admin.ModelAdmin):
    form = ScheduleForm
    list_display = ("name", "timezone", "holiday_country", "holiday_subdivision", "active", "updated_at")
    list_filter = ("active", "timezone")
    search_fields = ("name",)
    inlines = [ScheduleSpanInline, HolidayInline]
    actions = ["fill_holidays"]

    @admin.action(description=_("Fill public holidays for this year and the next two"))
    def fill_holidays(self, request, queryset) -> None:
        year = date.today().year
        for schedule in queryset:
            try:
                added = schedule_fill_holidays(schedule=schedule, by=request.user, years=[year, year + 1, year + 2])
            except ValidationError as exc:
                self.message_user(request, f"{schedule}: {'; '.join(exc.messages)}", messages.ERROR)
            else:
                self.message_user(request, f"{schedule}: {added} holidays added.", messages.SUCCESS)
