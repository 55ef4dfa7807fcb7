"""What an import brought in, so running it again imports nothing twice."""

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class ImportedRecord(models.Model):
    """One record of another service desk, and the ticket it became."""

    source = models.CharField(_("source"), max_length=40)
    external_id = models.CharField(_("external id"), max_length=100)
    ticket = models.OneToOneField("itsm.Ticket", on_delete=models.CASCADE, related_name="imported_from")
    events = models.PositiveIntegerField(_("events"), default=1)
    extra = models.JSONField(_("fields we have no column for"), default=dict, blank=True)
    imported_at = models.DateTimeField(_("imported at"), default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["source", "external_id"], name="imported_record_unique")]
        verbose_name = _("imported record")
        verbose_name_plural = _("imported records")

    def __str__(self) -> str:
        return f"{self.source}:{self.external_id}"
