"""Report the learned categoriser's held-out accuracy against the majority-class baseline: on the desk's own
resolved tickets per practice, and (when the shared folder is present) on the Endava sample, top-1 and top-3."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from automation.endava import endava_load, endava_path
from automation.learning import SEED, Evaluation, categoriser_practices, evaluate, training_data


def describe(name: str, result: Evaluation) -> str:
    return (
        f"{name}: {result.samples} tickets, {result.classes} categories, held out {result.test} (seed {SEED}): "
        f"top-1 {result.top1:.1%}, top-3 {result.top3:.1%}, majority baseline {result.baseline:.1%} "
        f"({(result.top1 - result.baseline) * 100:+.1f} points)"
    )


class Command(BaseCommand):
    help = "Held-out accuracy of the learned categoriser against the majority-class baseline."

    def add_arguments(self, parser):
        parser.add_argument("--skip-endava", action="store_true", help="Do not evaluate on the Endava sample.")

    def handle(self, *args, skip_endava: bool = False, **options):
        for practice in categoriser_practices():
            texts, categories, _groups = training_data(practice)
            if len(texts) < 10 or len(set(categories)) < 2:
                self.stdout.write(f"{practice}: {len(texts)} labelled resolved tickets, too few to measure.")
                continue
            self.stdout.write(describe(f"desk {practice}s", evaluate(texts, categories)))
        if skip_endava:
            return
        path = endava_path()
        if path is None:
            self.stdout.write("Endava sample: not present, skipped.")
            return
        texts, labels = endava_load(path)
        self.stdout.write(describe(f"Endava sample ({path.name})", evaluate(texts, labels)))
