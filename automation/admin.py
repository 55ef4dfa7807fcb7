"""Admin for automation: categories, presence, team routing, assignment rules and triggers (with a dry run)."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from rest_framework.exceptions import APIException

from automation.api.serializers import DRAFT_KINDS, DryRunInputSerializer
from automation.api.views import dry_run_answer
from automation.enums import TriggerEvent
from automation.improvement import FIELDS, initiative_create, initiative_transition, initiative_update
from automation.learning import categoriser_practices, categoriser_request, run_in_use
from automation.models import (
    AssignmentRule,
    CategoriserSettings,
    CategorySuggestion,
    ImprovementInitiative,
    TeamRouting,
    TrainingRun,
    Trigger,
    TriggerRun,
    UserProfile,
)
from automation.trends import METRICS, initiative_trend, trends_by_month
from catalog.models import Service
from itsm.admin import SERVICE_ERRORS, ServiceRefused, error_text
from itsm.enums import Impact, TicketKind, Urgency
from itsm.models import Category, Team
from itsm.rules import is_admin
from itsm.workspace.dashboards import bar_chart


class SubcategoryInline(admin.TabularInline):
    model = Category
    fk_name = "parent"
    fields = ["name", "order", "active"]
    extra = 0
    verbose_name = _("subcategory")
    verbose_name_plural = _("subcategories")


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = ["name", "practice", "parent", "order", "active"]
    list_filter = ["practice", "active", ("parent", admin.EmptyFieldListFilter)]
    search_fields = ["name", "parent__name"]
    list_select_related = ["parent"]
    autocomplete_fields = ["parent"]
    inlines = [SubcategoryInline]

    def save_formset(self, request, form, formset, change):
        # Subcategories take their parent's practice.
        for subcategory in formset.save(commit=False):
            subcategory.practice = form.instance.practice
            subcategory.save()
        for obj in formset.deleted_objects:
            obj.delete()


@admin.register(UserProfile)
class UserProfileAdmin(admin.ModelAdmin):
    list_display = ["user", "location", "away_until"]
    search_fields = ["user__username", "location"]
    autocomplete_fields = ["user"]


@admin.register(TeamRouting)
class TeamRoutingAdmin(admin.ModelAdmin):
    list_display = ["team", "mode", "last_assigned"]
    list_select_related = ["team", "last_assigned"]
    autocomplete_fields = ["team"]


class DryRunForm(forms.Form):
    """A ticket number, or a draft as it would be created."""

    ticket = forms.CharField(label=_("ticket number"), required=False, max_length=16)
    kind = forms.ChoiceField(label=_("practice"), choices=DRAFT_KINDS, initial="incident")
    short_description = forms.CharField(label=_("short description"), required=False, max_length=160)
    description = forms.CharField(label=_("description"), required=False, widget=forms.Textarea(attrs={"rows": 3}))
    impact = forms.TypedChoiceField(label=_("impact"), choices=Impact.choices, coerce=int, initial=Impact.LOW)
    urgency = forms.TypedChoiceField(label=_("urgency"), choices=Urgency.choices, coerce=int, initial=Urgency.LOW)
    event = forms.ChoiceField(
        label=_("only triggers on"), choices=[("", _("every event")), *TriggerEvent.choices], required=False
    )

    def api_data(self) -> dict:
        data = self.cleaned_data
        payload: dict = {"event": data["event"]} if data["event"] else {}
        if data["ticket"]:
            return {**payload, "ticket": data["ticket"]}
        draft = {name: data[name] for name in ("kind", "short_description", "description", "impact", "urgency")}
        return {**payload, "draft": draft}


def dry_run_view(model_admin: admin.ModelAdmin):
    """The admin page of the dry run: the same input and answer as POST /api/v1/automation/dry-run/."""

    def view(request):
        form = DryRunForm(request.POST or None)
        result = None
        if request.method == "POST" and form.is_valid():
            given = DryRunInputSerializer(data=form.api_data())
            if given.is_valid():
                try:
                    result = dry_run_answer(given.validated_data, by=request.user)
                except APIException as error:
                    form.add_error(None, str(error.detail))
            else:
                for field, problems in given.errors.items():
                    form.add_error(None, f"{field}: {problems}")
        context = {
            **model_admin.admin_site.each_context(request),
            "opts": model_admin.model._meta,
            "form": form,
            "result": result,
            "title": _("Dry run of rules and triggers"),
        }
        return TemplateResponse(request, "automation/admin/dry_run.html", context)

    return model_admin.admin_site.admin_view(view)


@admin.register(AssignmentRule)
class AssignmentRuleAdmin(admin.ModelAdmin):
    change_list_template = "automation/admin/change_list.html"
    list_display = ["name", "order", "practice", "active", "set_category", "set_assignment_group", "set_priority"]
    list_editable = ["order", "active"]
    list_filter = ["practice", "active"]
    list_select_related = ["set_category", "set_assignment_group"]
    search_fields = ["name"]
    autocomplete_fields = ["set_category", "set_subcategory", "set_assignment_group", "set_assigned_to", "add_watchers"]
    fieldsets = [
        (None, {"fields": ["name", "practice", "order", "active", "stop", "conditions"]}),
        (
            _("Actions"),
            {
                "fields": [
                    "set_category",
                    "set_subcategory",
                    "set_assignment_group",
                    "set_assigned_to",
                    "set_priority",
                    "priority_reason",
                    "work_note",
                    "add_watchers",
                ]
            },
        ),
    ]

    def get_urls(self):
        return [path("dry-run/", dry_run_view(self), name="automation_dry_run"), *super().get_urls()]


@admin.register(Trigger)
class TriggerAdmin(admin.ModelAdmin):
    change_list_template = "automation/admin/change_list.html"
    list_display = ["name", "event", "order", "practice", "active", "transition", "notify"]
    list_editable = ["order", "active"]
    list_filter = ["event", "practice", "active"]
    search_fields = ["name"]
    fieldsets = [
        (None, {"fields": ["name", "event", "practice", "order", "active", "conditions"]}),
        (_("Actions"), {"fields": ["set_fields", "transition", "transition_input", "notify", "message", "work_note"]}),
    ]


@admin.register(TriggerRun)
class TriggerRunAdmin(admin.ModelAdmin):
    list_display = ["trigger", "ticket", "event_key", "fired_at"]
    list_select_related = ["trigger", "ticket"]
    list_filter = ["trigger"]
    readonly_fields = ["trigger", "ticket", "event_key", "fired_at", "outcome"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(CategoriserSettings)
class CategoriserSettingsAdmin(admin.ModelAdmin):
    list_display = ["__str__", "enabled", "auto_apply_threshold", "min_tickets"]

    def has_add_permission(self, request):
        return not CategoriserSettings.objects.exists()

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(TrainingRun)
class TrainingRunAdmin(admin.ModelAdmin):
    """Trainings with a progress bar; 'Retrain now' queues one per practice that has categories."""

    change_list_template = "automation/admin/training_change_list.html"
    list_display = ["created_at", "practice", "status", "progress_bar", "samples", "accuracy"]
    list_filter = ["practice", "status"]
    fields = [
        "practice",
        "status",
        "progress_bar",
        "message",
        "created_at",
        "finished_at",
        "samples",
        "classes",
        "top1",
        "top3",
        "baseline",
    ]
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).defer("category_model", "group_model")

    @admin.display(description=_("progress"))
    def progress_bar(self, obj: TrainingRun):
        return format_html('<progress max="100" value="{}"></progress> {}%', obj.progress, obj.progress)

    @admin.display(description=_("top-1 / top-3 / baseline"))
    def accuracy(self, obj: TrainingRun):
        if obj.top1 is None:
            return "—"
        return f"{obj.top1:.1%} / {obj.top3:.1%} / {obj.baseline:.1%}"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        # The run in use stays (train again to replace it): suggestions point at it, and other processes keep using
        # it for a few seconds (automation.learning.RUNS_IN_USE), so deleting it would fail their ticket creations.
        if obj is not None and run_in_use(obj.practice) == obj:
            return False
        return super().has_delete_permission(request, obj)

    def get_urls(self):
        view = self.admin_site.admin_view(self.retrain_view)
        return [path("retrain/", view, name="automation_retrain"), *super().get_urls()]

    def retrain_view(self, request):
        if request.method == "POST" and is_admin(request.user):
            practices = categoriser_practices()
            for practice in practices:
                categoriser_request(practice=practice, by=request.user)
            messages.info(request, _("Training queued for: %s.") % (", ".join(practices) or _("no practice")))
        return HttpResponseRedirect(reverse("admin:automation_trainingrun_changelist"))


@admin.register(CategorySuggestion)
class CategorySuggestionAdmin(admin.ModelAdmin):
    list_display = [
        "ticket",
        "category",
        "confidence",
        "assignment_group",
        "applied",
        "accepted_by",
        "dismissed_by",
        "created_at",
    ]
    list_filter = ["applied"]
    list_select_related = ["ticket", "category", "assignment_group", "accepted_by", "dismissed_by"]
    search_fields = ["ticket__number"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


def trend_charts(rows: list[dict], metrics: list[str], *, target: float | None = None) -> list[dict]:
    """A bar chart per metric over the months (with the target as a dashed line when given)."""
    charts = []
    for metric in metrics:
        values = [(row["month"][2:], row[metric] or 0) for row in rows]
        scale = max([value for _month, value in values] + ([target] if target is not None else [])) or 1
        svg = _scaled(values, scale)
        target_y = None if target is None else round(svg["base"] - (svg["base"] - 16) * target / scale, 1)
        charts.append({"title": METRICS[metric][0], "svg": svg, "target_y": target_y})
    return charts


def _scaled(values: list[tuple[str, float]], scale: float) -> dict:
    """bar_chart with a fixed top value (so a target line above every bar still fits)."""
    svg = bar_chart([*values, ("", scale)], width=440, height=170)
    svg["bars"] = svg["bars"][:-1]
    return svg


class TrendFilterForm(forms.Form):
    practice = forms.ChoiceField(choices=[("", _("every practice")), *TicketKind.choices], required=False)
    service = forms.ModelChoiceField(queryset=Service.objects.all(), required=False)
    team = forms.ModelChoiceField(queryset=Team.objects.all(), required=False)
    months = forms.IntegerField(min_value=1, max_value=36, initial=12, required=False)


def _table(rows: list[dict]) -> tuple[list, list]:
    columns = [(key, METRICS[key][0]) for key in METRICS]
    return columns, [{"month": row["month"], "values": [row[key] for key, _l in columns]} for row in rows]


@admin.register(ImprovementInitiative)
class ImprovementInitiativeAdmin(admin.ModelAdmin):
    """The improvement register; states change through the actions (the services), the trend is on each page."""

    list_display = ["title", "metric", "state", "owner", "team", "service", "baseline_value", "target_value"]
    list_filter = ["state", "metric", "practice", "team"]
    list_select_related = ["owner", "team", "service"]
    search_fields = ["title", "problem_statement"]
    autocomplete_fields = ["owner", "service", "team"]
    filter_horizontal = ["problems", "changes"]
    readonly_fields = ["state", "trend_link"]
    actions = ["approve", "start", "complete", "abandon"]
    change_list_template = "automation/admin/initiative_change_list.html"

    @admin.display(description=_("trend against target"))
    def trend_link(self, obj: ImprovementInitiative):
        if obj.pk is None:
            return "—"
        url = reverse("admin:automation_initiative_trend", args=[obj.pk])
        return format_html('<a href="{}">{}</a>', url, _("Show the monthly trend"))

    def save_model(self, request, obj, form, change):
        fields = {name: form.cleaned_data[name] for name in FIELDS if name in form.cleaned_data}
        try:
            if change:
                saved = initiative_update(initiative=obj, by=request.user, **fields)
            else:
                saved = initiative_create(by=request.user, **fields)
        except (ValidationError, PermissionDenied) as error:
            raise ServiceRefused(error) from error
        obj.pk = saved.pk

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except ServiceRefused as refused:
            self.message_user(request, error_text(refused.error), messages.ERROR)
            return HttpResponseRedirect(request.path)

    def _run(self, request, queryset, name: str) -> None:
        done = 0
        for initiative in queryset:
            try:
                initiative_transition(initiative=initiative, by=request.user, name=name)
                done += 1
            except (*SERVICE_ERRORS,) as error:
                self.message_user(request, f"{initiative}: {error_text(error)}", messages.WARNING)
        self.message_user(request, _("%(n)s initiative(s): %(name)s.") % {"n": done, "name": name})

    @admin.action(description=_("Approve"))
    def approve(self, request, queryset):
        self._run(request, queryset, "approve")

    @admin.action(description=_("Start"))
    def start(self, request, queryset):
        self._run(request, queryset, "start")

    @admin.action(description=_("Complete"))
    def complete(self, request, queryset):
        self._run(request, queryset, "complete")

    @admin.action(description=_("Abandon"))
    def abandon(self, request, queryset):
        self._run(request, queryset, "abandon")

    def get_urls(self):
        return [
            path("trends/", self.admin_site.admin_view(self.trends_view), name="automation_trends"),
            path(
                "<int:pk>/trend/",
                self.admin_site.admin_view(self.initiative_trend_view),
                name="automation_initiative_trend",
            ),
            *super().get_urls(),
        ]

    def _page(self, request, **context):
        return TemplateResponse(
            request,
            "automation/admin/trends.html",
            {**self.admin_site.each_context(request), "opts": self.model._meta, **context},
        )

    def trends_view(self, request):
        form = TrendFilterForm(request.GET or None)
        data = form.cleaned_data if form.is_valid() else {}
        rows = trends_by_month(
            practice=data.get("practice") or None,
            service_id=data["service"].pk if data.get("service") else None,
            team_id=data["team"].pk if data.get("team") else None,
            months=data.get("months") or 12,
        )
        columns, table = _table(rows)
        return self._page(
            request,
            title=_("Trend report"),
            form=form,
            charts=trend_charts(rows, list(METRICS)),
            columns=columns,
            table=table,
        )

    def initiative_trend_view(self, request, pk: int):
        initiative = ImprovementInitiative.objects.filter(pk=pk).first()
        if initiative is None:
            raise Http404
        trend = initiative_trend(initiative)
        rows = [{"month": p["month"], initiative.metric: p["value"]} for p in trend["points"]]
        return self._page(
            request,
            title=_("Trend of %(title)s") % {"title": initiative.title},
            initiative=initiative,
            trend=trend,
            charts=trend_charts(rows, [initiative.metric], target=initiative.target_value),
            columns=[],
            table=[],
        )
