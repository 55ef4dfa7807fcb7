"""Automation Celery tasks: train the categoriser (on demand and by beat)."""

from celery import shared_task

from automation.learning import categoriser_practices, categoriser_train
from automation.models import TrainingRun


@shared_task(name="automation.categoriser_train", acks_late=True, time_limit=1800, soft_time_limit=1700)
def categoriser_train_task(*, run_id: int) -> str | None:
    """Train one queued run; a run already taken (or gone) is skipped, so running twice is safe."""
    run = categoriser_train(run_id=run_id)
    return run.status if run else None


@shared_task(name="automation.categoriser_retrain", time_limit=3600, soft_time_limit=3500)
def categoriser_retrain_task() -> list[str]:
    """The periodic retraining: one run per practice that has categories, trained here one after the other."""
    statuses = []
    for practice in categoriser_practices():
        run = TrainingRun.objects.create(practice=practice)
        done = categoriser_train(run_id=run.pk)
        statuses.append(f"{practice}: {done.status if done else 'skipped'}")
    return statuses
