"""Forms of the agent workspace and the self-service portal; they validate input and never save: services do."""

from __future__ import annotations

from django import forms
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db.models import Q, QuerySet
from django.utils.translation import gettext_lazy as _

from catalog.models import ConfigurationItem, Service
from incidents.models import CloseCode, HoldReason, Incident
from itsm.enums import Impact, JournalKind, Role, Urgency
from itsm.fields import NameOrIdChoiceField
from itsm.models import Team

User = get_user_model()

AGENT_ROLES = (Role.AGENT, Role.TEAM_MANAGER, Role.CHANGE_MANAGER, Role.ADMIN)


def agents_queryset() -> QuerySet:
    """Active users who may be assigned tickets (the same rule as itsm.rules.is_agent, as a query)."""
    return (
        User.objects.filter(is_active=True)
        .filter(Q(is_superuser=True) | Q(groups__name__in=AGENT_ROLES))
        .distinct()
        .order_by("username")
    )


class UserChoiceField(forms.ModelChoiceField):
    """A user select that shows the full name next to the username."""

    def label_from_instance(self, obj) -> str:
        full = obj.get_full_name()
        return f"{full} ({obj.get_username()})" if full else obj.get_username()


def apply_service_errors(form: forms.Form, error: ValidationError) -> None:
    """Attach a service's ValidationError to the form: per field where the form has it, otherwise to the form."""
    if hasattr(error, "error_dict"):
        for field, errors in error.error_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, error)


class _IncidentFieldsMixin(forms.Form):
    short_description = forms.CharField(label=_("Short description"), max_length=160)
    description = forms.CharField(label=_("Description"), required=False, widget=forms.Textarea(attrs={"rows": 5}))
    impact = forms.TypedChoiceField(label=_("Impact"), choices=Impact.choices, coerce=int, initial=Impact.LOW)
    urgency = forms.TypedChoiceField(label=_("Urgency"), choices=Urgency.choices, coerce=int, initial=Urgency.LOW)
    assignment_group = forms.ModelChoiceField(
        label=_("Assignment group"), queryset=Team.objects.none(), required=False, empty_label=_("— none —")
    )
    assigned_to = UserChoiceField(
        label=_("Assigned to"), queryset=User.objects.none(), required=False, empty_label=_("— nobody —")
    )
    service = forms.ModelChoiceField(
        label=_("Service"), queryset=Service.objects.none(), required=False, empty_label=_("— none —")
    )
    # CIs can number in the thousands: typed by name rather than chosen from a select.
    configuration_item = NameOrIdChoiceField(
        label=_("Configuration item"),
        queryset=ConfigurationItem.objects.filter(active=True),
        required=False,
        widget=forms.TextInput(attrs={"placeholder": _("CI name")}),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["assignment_group"].queryset = Team.objects.filter(active=True)
        self.fields["assigned_to"].queryset = agents_queryset()
        self.fields["service"].queryset = Service.objects.filter(active=True)


class IncidentForm(_IncidentFieldsMixin):
    """The fields an agent edits on an incident; incidents.services.incident_update saves them."""

    major_incident = forms.BooleanField(label=_("Major incident"), required=False)

    field_order = [
        "short_description",
        "description",
        "impact",
        "urgency",
        "assignment_group",
        "assigned_to",
        "service",
        "configuration_item",
        "major_incident",
    ]

    @classmethod
    def for_incident(cls, incident: Incident, data=None) -> IncidentForm:
        """The form bound to `data`, with the incident's current values as initial values."""
        initial = {name: getattr(incident, name) for name in cls.field_order}
        return cls(data=data, initial=initial, auto_id="id_f_%s")

    def changes(self) -> dict:
        """The cleaned values to hand to incident_update (the service journals only what differs)."""
        return {name: self.cleaned_data[name] for name in self.field_order}


class IncidentCreateForm(_IncidentFieldsMixin):
    """An agent logs an incident for a caller; incidents.services.incident_create saves it."""

    caller = NameOrIdChoiceField(
        label=_("Caller"),
        queryset=User.objects.filter(is_active=True),
        name_field="username",
        required=False,
        help_text=_("Username; leave empty to log it for yourself."),
        widget=forms.TextInput(attrs={"placeholder": _("username"), "autocomplete": "off"}),
    )

    field_order = [
        "short_description",
        "caller",
        "description",
        "impact",
        "urgency",
        "assignment_group",
        "assigned_to",
        "service",
        "configuration_item",
    ]


class CommentForm(forms.Form):
    """A public comment or (agents only) an internal work note."""

    kind = forms.ChoiceField(
        label=_("Kind"),
        choices=[(JournalKind.WORK_NOTE, _("Work note (internal)")), (JournalKind.COMMENT, _("Comment (caller sees)"))],
        initial=JournalKind.WORK_NOTE,
        widget=forms.RadioSelect,
    )
    body = forms.CharField(label=_("Text"), widget=forms.Textarea(attrs={"rows": 3}), max_length=20000)


class PortalCommentForm(forms.Form):
    """A caller's reply on their incident."""

    body = forms.CharField(
        label=_("Your message"),
        widget=forms.Textarea(attrs={"rows": 3, "placeholder": _("Write a reply...")}),
        max_length=20000,
    )


# --- transition forms: each transition's required fields ------------------------------------------------------


class EmptyForm(forms.Form):
    """A transition with no input."""


class HoldForm(forms.Form):
    hold_reason = forms.ModelChoiceField(
        label=_("Reason"), queryset=HoldReason.objects.none(), empty_label=_("— choose —")
    )
    comment = forms.CharField(
        label=_("Comment to the caller"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Required when waiting for the caller: tell them what you need."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["hold_reason"].queryset = HoldReason.objects.filter(active=True)


class ResolveForm(forms.Form):
    close_code = forms.ModelChoiceField(
        label=_("Close code"), queryset=CloseCode.objects.none(), empty_label=_("— choose —")
    )
    close_notes = forms.CharField(label=_("Close notes"), widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["close_code"].queryset = CloseCode.objects.filter(active=True)


class ReopenForm(forms.Form):
    comment = forms.CharField(label=_("Why is it reopened?"), widget=forms.Textarea(attrs={"rows": 2}))


class CancelForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), widget=forms.Textarea(attrs={"rows": 2}))


# --- portal ---------------------------------------------------------------------------------------------------

PORTAL_URGENCY_CHOICES = [
    (Urgency.HIGH, _("I cannot work at all")),
    (Urgency.MEDIUM, _("My work is slowed down")),
    (Urgency.LOW, _("It is an inconvenience")),
]


class PortalReportForm(forms.Form):
    """What an end user tells us when reporting an issue."""

    short_description = forms.CharField(
        label=_("What is the problem?"),
        max_length=160,
        widget=forms.TextInput(attrs={"placeholder": _("e.g. I cannot print to the printer on floor 3")}),
    )
    description = forms.CharField(
        label=_("Details"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text=_("What happened, since when, any error message."),
    )
    urgency = forms.TypedChoiceField(
        label=_("How much does it affect you?"),
        choices=PORTAL_URGENCY_CHOICES,
        coerce=int,
        initial=Urgency.LOW,
        widget=forms.RadioSelect,
    )
    service = forms.ModelChoiceField(
        label=_("Which service? (optional)"),
        queryset=Service.objects.none(),
        required=False,
        empty_label=_("I don't know"),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["service"].queryset = Service.objects.filter(active=True)


class PortalReopenForm(forms.Form):
    comment = forms.CharField(
        label=_("What is still not working?"), widget=forms.Textarea(attrs={"rows": 3}), max_length=20000
    )
