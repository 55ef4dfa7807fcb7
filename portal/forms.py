"""Portal forms: report an issue (with a file), comments and files on my tickets, ratings, approval decisions.

Catalog item forms are not Django forms: they are rendered from the item's published definition and checked by
catalog.variables, the same validation the API uses.
"""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from incidents.forms import PortalReportForm


class ReportForm(PortalReportForm):
    """What is wrong, which service, how urgent, and an optional file."""

    attachment = forms.FileField(
        label=_("Attach a file (optional)"),
        required=False,
        help_text=_("A screenshot or a document: PDF, image, text or Office file."),
    )


class CommentForm(forms.Form):
    body = forms.CharField(
        label=_("Your message"),
        max_length=20000,
        widget=forms.Textarea(attrs={"rows": 3, "placeholder": _("Write a message...")}),
    )


class AttachmentForm(forms.Form):
    file = forms.FileField(label=_("Add a file"))


class WithdrawForm(forms.Form):
    reason = forms.CharField(label=_("Why do you withdraw it? (optional)"), required=False, max_length=2000)


class RatingForm(forms.Form):
    score = forms.TypedChoiceField(
        label=_("How did we do?"),
        choices=[(5, _("5 - Excellent")), (4, _("4 - Good")), (3, _("3 - OK")), (2, _("2 - Poor")), (1, _("1 - Bad"))],
        coerce=int,
        widget=forms.RadioSelect,
    )
    comment = forms.CharField(
        label=_("Anything to add? (optional)"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class DecisionForm(forms.Form):
    decision = forms.ChoiceField(choices=[("approve", _("Approve")), ("reject", _("Reject"))])
    comment = forms.CharField(
        label=_("Comment"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Required when you reject: the requester will read it."),
    )
