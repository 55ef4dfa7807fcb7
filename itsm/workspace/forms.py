"""Forms of the generic workspace: transition inputs rendered from the API's input serializers, the fields form
built from the practice's declared editable fields, the composer, bulk actions and saved filters.

Forms validate input and never save: the practice's services do.
"""

from __future__ import annotations

from django import forms
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db.models import Q, QuerySet
from django.forms.models import ModelChoiceIterator, fields_for_model
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from catalog.models import ConfigurationItem, Service
from itsm.api.fields import NameOrIdRelatedField
from itsm.enums import JournalKind, Role
from itsm.fields import NameOrIdChoiceField
from itsm.models import Category, Team

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


class FastSelect(forms.Select):
    """A select rendered in Python: the same markup as Django's select templates, without rendering two templates per
    option (the ticket page has about 350 options: team, service, agents, reasons; their templates were the largest
    cost of the page)."""

    def render(self, name, value, attrs=None, renderer=None):
        widget = self.get_context(name, value, attrs)["widget"]
        groups = []
        for group_name, options, _index in widget["optgroups"]:
            rows = format_html_join(
                "\n",
                '<option value="{}"{}>{}</option>',
                ((str(o["value"]), _attrs(o["attrs"]), o["label"]) for o in options),
            )
            if group_name:
                rows = format_html('<optgroup label="{}">\n{}\n</optgroup>', group_name, rows)
            groups.append(rows)
        body = format_html_join("\n", "{}", ((group,) for group in groups))
        return format_html('<select name="{}"{}>\n{}\n</select>', widget["name"], _attrs(widget["attrs"]), body)


def _attrs(attrs: dict) -> str:
    """HTML attributes as django/forms/widgets/attrs.html writes them (True: bare name, False: left out)."""
    return format_html_join(
        "",
        "{}",
        (
            (format_html(" {}", key) if value is True else format_html(' {}="{}"', key, str(value)),)
            for key, value in attrs.items()
            if value is not False
        ),
    )


class _ListChoiceIterator(ModelChoiceIterator):
    """Choices of a select read in one plain query. Django reads them with `QuerySet.iterator()`, which on
    PostgreSQL is a server-side cursor (DECLARE, FETCH, CLOSE: four round trips per select); these lists are small."""

    def __iter__(self):
        if self.field.empty_label is not None:
            yield ("", self.field.empty_label)
        for obj in self.queryset:
            yield self.choice(obj)


def fast_selects(fields: dict[str, forms.Field]) -> dict[str, forms.Field]:
    """Give every plain single select of these fields the Python-rendered widget (same markup, same choices), its
    records read in one query."""
    for field in fields.values():
        if type(field.widget) is forms.Select:
            if isinstance(field, forms.ModelChoiceField):
                field.iterator = _ListChoiceIterator
            field.widget = FastSelect(attrs=field.widget.attrs)
            field.widget.choices = field.choices
    return fields


class UserChoiceField(forms.ModelChoiceField):
    """A user select that shows the full name next to the username."""

    def label_from_instance(self, obj) -> str:
        full = obj.get_full_name()
        return f"{full} ({obj.get_username()})" if full else obj.get_username()


def apply_service_errors(form: forms.Form, error: ValidationError | dict) -> None:
    """Attach a service's ValidationError (or a serializer's errors) to a validated form: per field where the form
    has it, otherwise to the form, naming the field."""
    if isinstance(error, ValidationError):
        if not hasattr(error, "error_dict"):
            form.add_error(None, error)
            return
        items = {name: [m for e in errors for m in e.messages] for name, errors in error.error_dict.items()}
    else:
        items = {name: errors if isinstance(errors, list) else [errors] for name, errors in error.items()}
    for name, messages in items.items():
        for message in messages:
            if name in form.fields:
                form.add_error(name, str(message))
            elif name == "non_field_errors":
                form.add_error(None, str(message))
            else:
                form.add_error(None, f"{name}: {message}")


# --- transition input: the API's input serializer as a small form ------------------------------------------------


def _form_field(name: str, field: serializers.Field) -> forms.Field:
    label = field.label or name.replace("_", " ").capitalize()
    common = {"label": label, "required": field.required, "help_text": field.help_text or ""}
    if isinstance(field, serializers.BooleanField):
        return forms.BooleanField(**{**common, "required": False})
    if isinstance(field, serializers.ChoiceField):
        return forms.ChoiceField(choices=[("", _("— choose —")), *field.choices.items()], **common)
    if isinstance(field, serializers.SlugRelatedField):
        queryset = field.get_queryset()
        return forms.ModelChoiceField(
            queryset=queryset, to_field_name=field.slug_field, empty_label=_("— choose —"), **common
        )
    if isinstance(field, NameOrIdRelatedField | serializers.RelatedField):
        return forms.CharField(**common, widget=forms.TextInput(attrs={"autocomplete": "off"}))
    if isinstance(field, serializers.CharField):
        if field.max_length and field.max_length <= 200:
            return forms.CharField(**common)
        return forms.CharField(**common, widget=forms.Textarea(attrs={"rows": 3}))
    return forms.CharField(**common)


def transition_form_class(serializer_class: type[serializers.Serializer]) -> type[forms.Form]:
    """A display form with the serializer's fields (validation stays with the serializer)."""
    fields = {
        name: _form_field(name, field) for name, field in serializer_class().fields.items() if not field.read_only
    }
    fast_selects(fields)
    return type(f"{serializer_class.__name__}Form", (forms.Form,), fields)


def serializer_data(serializer_class: type[serializers.Serializer], post) -> dict:
    """The POSTed values for the serializer's fields (unchecked boxes are False, blank optional values left out)."""
    data = {}
    for name, field in serializer_class().fields.items():
        if isinstance(field, serializers.BooleanField):
            data[name] = post.get(name) in ("on", "true", "1", "True")
        elif name in post and (post.get(name) != "" or field.required):
            data[name] = post.get(name)
    return data


# --- the fields form of the ticket page ---------------------------------------------------------------------


def fields_form_class(model: type, edit_fields: list[str]) -> type[forms.Form]:
    """A plain form over the declared editable fields (a plain Form, so cleaning never touches the record)."""
    base = fields_for_model(model, fields=[f for f in edit_fields if f not in SHARED_FIELDS])
    fields: dict[str, forms.Field] = {}
    for name in edit_fields:
        fields[name] = SHARED_FIELDS[name]() if name in SHARED_FIELDS else base[name]
        if isinstance(fields[name].widget, forms.Textarea):
            fields[name].widget.attrs["rows"] = 3
    for name in ("category", "subcategory"):
        if name in fields:
            # The practice's own categories (top level, or under one), in one query with their parents' names.
            fields[name].queryset = Category.objects.filter(
                practice=model.KIND, parent__isnull=name == "category"
            ).select_related("parent")
    fields["version"] = forms.IntegerField(widget=forms.HiddenInput, required=False)
    fast_selects(fields)
    return type(f"{model.__name__}FieldsForm", (TicketFieldsForm,), fields)


class TicketFieldsForm(forms.Form):
    """Base of the generated fields forms: initial values from the record, changes() for the update service."""

    @classmethod
    def for_ticket(cls, ticket, data=None):
        initial = {name: getattr(ticket, name) for name in cls.base_fields if name != "version"}
        initial["version"] = ticket.version
        return cls(data=data, initial=initial, auto_id="id_f_%s")

    def changes(self) -> dict:
        return {name: value for name, value in self.cleaned_data.items() if name != "version"}


def _team_field() -> forms.Field:
    return forms.ModelChoiceField(
        label=_("Assignment group"),
        queryset=Team.objects.filter(active=True),
        required=False,
        empty_label=_("— none —"),
    )


def _agent_field() -> forms.Field:
    return UserChoiceField(
        label=_("Assigned to"), queryset=agents_queryset(), required=False, empty_label=_("— nobody —")
    )


def _service_field() -> forms.Field:
    return forms.ModelChoiceField(
        label=_("Service"), queryset=Service.objects.filter(active=True), required=False, empty_label=_("— none —")
    )


def _ci_field() -> forms.Field:
    # CIs can number in the thousands: typed by name rather than chosen from a select.
    return NameOrIdChoiceField(
        label=_("Configuration item"),
        queryset=ConfigurationItem.objects.filter(active=True),
        required=False,
        widget=forms.TextInput(attrs={"placeholder": _("CI name")}),
    )


SHARED_FIELDS = {
    "assignment_group": _team_field,
    "assigned_to": _agent_field,
    "service": _service_field,
    "configuration_item": _ci_field,
}


class CommentForm(forms.Form):
    """A public comment or an internal work note."""

    kind = forms.ChoiceField(
        label=_("Kind"),
        choices=[(JournalKind.WORK_NOTE, _("Work note (internal)")), (JournalKind.COMMENT, _("Comment (caller sees)"))],
        initial=JournalKind.WORK_NOTE,
        widget=forms.RadioSelect,
    )
    body = forms.CharField(label=_("Text"), widget=forms.Textarea(attrs={"rows": 3}), max_length=20000)


class AttachmentForm(forms.Form):
    file = forms.FileField(label=_("File"))
    public = forms.BooleanField(label=_("Visible to the caller"), required=False, initial=False)


class SavedFilterForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=80)
