"""Admin for the SLA engine: schedules edited as one unit (spans and holidays inline), holidays filled by country."""

from __future__ import annotations

from datetime import date

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.forms.models import BaseInlineFormSet
from django.utils.translation import gettext_lazy as _

from itsm.enums import Priority, StateCategory
from itsm.models import Category
from slas.business_time import format_clock, parse_clock
from slas.models import Holiday, Schedule, ScheduleSpan, SLAAction, SLAClock, SLADefinition
from slas.replay import sla_preview
from slas.services import (
    HolidayInput,
    SpanInput,
    schedule_fill_holidays,
    schedule_validate,
    sla_definition_activate,
)


class SLAClockInline(admin.TabularInline):
    """The ticket's SLA clocks, read-only (the engine keeps them)."""

    model = SLAClock
    fk_name = "ticket"
    fields = (
        "definition",
        "stage",
        "has_breached",
        "started_at",
        "due_at",
        "stopped_at",
        "business_elapsed",
        "pause_total",
    )
    readonly_fields = fields
    extra = 0
    can_delete = False
    verbose_name_plural = _("SLA clocks")

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


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
        if any(form.errors for form in self.forms):
            return  # each form shows its own errors first
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


class HolidayFormSet(BaseInlineFormSet):
    def clean(self) -> None:
        super().clean()
        if any(form.errors for form in self.forms):
            return
        holidays = [
            HolidayInput(form.cleaned_data["date"], form.cleaned_data.get("name", ""), form.cleaned_data.get("yearly"))
            for form in self.forms
            if form.cleaned_data and not form.cleaned_data.get("DELETE")
        ]
        try:
            schedule_validate(timezone="UTC", spans=[SpanInput(0, 0, 1)], holidays=holidays)
        except ValidationError as exc:
            raise ValidationError(exc.message_dict["holidays"]) from None


class HolidayInline(admin.TabularInline):
    model = Holiday
    formset = HolidayFormSet
    extra = 0


class ScheduleForm(forms.ModelForm):
    timezone = forms.CharField(help_text=_("IANA name, e.g. Europe/Berlin"))

    class Meta:
        model = Schedule
        fields = ["name", "timezone", "description", "holiday_country", "holiday_subdivision", "active"]

    def clean_timezone(self):
        value = self.cleaned_data["timezone"]
        try:
            schedule_validate(timezone=value, spans=[SpanInput(0, 0, 1)], holidays=[])
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


CONDITIONS = ("start", "pause", "stop", "reset", "cancel")
ASSIGNED_CHOICES = [("", _("any")), ("yes", _("assigned")), ("no", _("unassigned"))]


class _SLADefinitionFormBase(forms.ModelForm):
    """Conditions are edited as state-category checkboxes plus an 'assigned' choice, stored as JSON."""

    match_priorities = forms.TypedMultipleChoiceField(
        choices=Priority.choices,
        coerce=int,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("None ticked: any priority."),
    )
    duration = forms.CharField(help_text=_("e.g. 4h, 30m, 2d 4h, or seconds"))

    class Meta:
        model = SLADefinition
        fields = [
            "name",
            "sla_type",
            "target",
            "practice",
            "order",
            "active",
            "replaces",
            "match_priorities",
            "match_services",
            "match_configuration_items",
            "match_assignment_groups",
            "match_categories",
            "match_catalog_items",
            "schedule",
            "schedule_source",
            "thresholds",
        ]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in CONDITIONS:
            condition = getattr(self.instance, f"{name}_condition", None) or {}
            self.initial[f"{name}_categories"] = condition.get("state_category", [])
            assigned = condition.get("assigned")
            self.initial[f"{name}_assigned"] = "" if assigned is None else ("yes" if assigned else "no")
        if self.instance.pk:
            self.initial["duration"] = format_duration(self.instance.duration_seconds)
        self.initial.setdefault("match_priorities", self.instance.match_priorities or [])
        if "match_categories" in self.fields:  # names show the parent: one query, not one per option
            self.fields["match_categories"].queryset = Category.objects.select_related("parent")

    def clean(self):
        cleaned = super().clean()
        # The many-to-many match sets are saved after the model is validated: the model checks the ones submitted.
        self.instance.pending_match_sets = {
            "categories": list(cleaned.get("match_categories") or ()),
            "catalog_items": list(cleaned.get("match_catalog_items") or ()),
        }
        return cleaned

    def clean_duration(self) -> int:
        try:
            return parse_duration(self.cleaned_data["duration"])
        except ValueError as exc:
            raise ValidationError(str(exc)) from None

    def _post_clean(self) -> None:
        for name in CONDITIONS:
            condition: dict = {}
            categories = self.cleaned_data.get(f"{name}_categories")
            if categories:
                condition["state_category"] = list(categories)
            assigned = self.cleaned_data.get(f"{name}_assigned")
            if assigned:
                condition["assigned"] = assigned == "yes"
            setattr(self.instance, f"{name}_condition", condition)
        if "duration" in self.cleaned_data:
            self.instance.duration_seconds = self.cleaned_data["duration"]
        super()._post_clean()

    def _update_errors(self, errors: ValidationError) -> None:
        # The model names its JSON fields; the form shows them as checkboxes and a duration text.
        if hasattr(errors, "error_dict"):
            renamed = {f"{name}_condition": f"{name}_categories" for name in CONDITIONS} | {
                "duration_seconds": "duration"
            }
            errors = ValidationError({renamed.get(key, key): value for key, value in errors.error_dict.items()})
        super()._update_errors(errors)


def _condition_fields() -> dict[str, forms.Field]:
    fields: dict[str, forms.Field] = {}
    for name in CONDITIONS:
        fields[f"{name}_categories"] = forms.MultipleChoiceField(
            label=_("%(name)s: state categories") % {"name": name.capitalize()},
            choices=StateCategory.choices,
            required=False,
            widget=forms.CheckboxSelectMultiple,
        )
        fields[f"{name}_assigned"] = forms.ChoiceField(
            label=_("%(name)s: assignment") % {"name": name.capitalize()}, choices=ASSIGNED_CHOICES, required=False
        )
    return fields


# The condition fields are declared on the class so the admin's fieldsets can name them.
SLADefinitionForm = type("SLADefinitionForm", (_SLADefinitionFormBase,), _condition_fields())


def parse_duration(text: str) -> int:
    """'4h', '30m', '2d 4h', '90s' or plain seconds to seconds."""
    text = text.strip().lower()
    if text.isdigit():
        return int(text)
    total, number = 0, ""
    units = {"d": 86400, "h": 3600, "m": 60, "s": 1}
    for char in text.replace(" ", ""):
        if char.isdigit():
            number += char
        elif char in units and number:
            total += int(number) * units[char]
            number = ""
        else:
            raise ValueError(_("Write a duration like 4h, 30m or 2d 4h."))
    if number or total <= 0:
        raise ValueError(_("Write a duration like 4h, 30m or 2d 4h."))
    return total


def format_duration(seconds: int) -> str:
    parts = []
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        value, seconds = divmod(seconds, size)
        if value:
            parts.append(f"{value}{unit}")
    return " ".join(parts) or "0s"


class SLAActionInline(admin.TabularInline):
    model = SLAAction
    extra = 0
    autocomplete_fields = ["team"]


@admin.register(SLADefinition)
class SLADefinitionAdmin(admin.ModelAdmin):
    form = SLADefinitionForm
    list_display = ("name", "practice", "sla_type", "target", "duration_display", "schedule", "active", "order")
    list_filter = ("practice", "sla_type", "target", "active")
    search_fields = ("name",)
    filter_horizontal = (
        "match_services",
        "match_configuration_items",
        "match_assignment_groups",
        "match_categories",
        "match_catalog_items",
    )
    inlines = [SLAActionInline]
    actions = ["preview_30_days", "activate"]
    fieldsets = [
        (None, {"fields": ["name", "sla_type", "target", "practice", "order", "active", "replaces"]}),
        (
            _("Applies to"),
            {
                "fields": [
                    "match_priorities",
                    "match_services",
                    "match_configuration_items",
                    "match_assignment_groups",
                    "match_categories",
                    "match_catalog_items",
                ]
            },
        ),
        (_("Conditions"), {"fields": [f"{n}_{part}" for n in CONDITIONS for part in ("categories", "assigned")]}),
        (_("Time"), {"fields": ["duration", "schedule", "schedule_source", "thresholds"]}),
    ]

    @admin.display(description=_("duration"))
    def duration_display(self, obj: SLADefinition) -> str:
        return format_duration(obj.duration_seconds)

    @admin.action(description=_("Preview: replay the last 30 days of tickets"))
    def preview_30_days(self, request, queryset) -> None:
        for definition in queryset:
            result = sla_preview(definition=definition, days=30)
            self.message_user(
                request,
                _(
                    "%(name)s: %(tickets)s tickets, %(attached)s clocks would attach, %(breached)s breach, "
                    "%(due_changed)s due times change (the replaced version: %(baseline_attached)s clocks, "
                    "%(baseline_breached)s breaches)."
                )
                % {"name": definition.name, **result.as_dict()},
                messages.INFO,
            )

    @admin.action(description=_("Activate (and retire the version it replaces)"))
    def activate(self, request, queryset) -> None:
        for definition in queryset:
            sla_definition_activate(definition=definition, by=request.user)
            self.message_user(request, _("%(name)s is active.") % {"name": definition.name}, messages.SUCCESS)


@admin.register(SLAClock)
class SLAClockAdmin(admin.ModelAdmin):
    list_display = ("ticket", "definition", "stage", "has_breached", "started_at", "due_at", "stopped_at")
    list_filter = ("stage", "has_breached", "definition")
    search_fields = ("ticket__number",)
    list_select_related = ("ticket", "definition")
    readonly_fields = [f.name for f in SLAClock._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
