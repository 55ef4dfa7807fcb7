"""SLA engine Celery tasks."""

from celery import shared_task

from slas.services import sla_sweep


@shared_task(name="slas.sweep", acks_late=True, time_limit=300, soft_time_limit=270)
def sla_sweep_task(*, batch_size: int = 100) -> int:
    """Record due SLA milestones and run their actions; safe to run twice and concurrently."""
    return sla_sweep(batch_size=batch_size)
