"""Keep every ticket's state category and active flag in step with its practice state after a transition."""

from django.dispatch import receiver
from django_fsm.signals import post_transition

from itsm.models import Ticket


@receiver(post_transition)
def ticket_sync_state_category(sender, instance, name, source, target, **kwargs) -> None:
    # Only fields on the instance change here; the service that ran the transition saves it.
    if isinstance(instance, Ticket) and target is not None:
        instance.sync_state_category(target)
