"""Train the learned categoriser now, with a progress bar (per practice, or the one named)."""

from __future__ import annotations

from django.core.management.base import BaseCommand
from tqdm import tqdm

from automation.learning import categoriser_practices, categoriser_train
from automation.models import TrainingRun


class Command(BaseCommand):
    help = "Train the categoriser on the resolved tickets now and report its held-out accuracy."

    def add_arguments(self, parser):
        parser.add_argument("--practice", help="Only this practice (default: every practice with categories).")

    def handle(self, *args, practice: str | None = None, **options):
        for name in [practice] if practice else categoriser_practices():
            run = TrainingRun.objects.create(practice=name)
            with tqdm(total=100, desc=name, unit="%", file=self.stderr) as bar:

                def advance(percent: int, message: str) -> None:
                    bar.set_postfix_str(message[:60])
                    bar.update(max(0, percent - bar.n))

                done = categoriser_train(run_id=run.pk, on_progress=advance)
                bar.update(100 - bar.n)
            self.stdout.write(f"{name}: {done.get_status_display()}. {done.message}")
