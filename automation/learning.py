"""Learned categorisation: TF-IDF over a ticket's text and a linear classifier (logistic loss, so it gives
probabilities), trained on the desk's own resolved tickets per practice for the category and the assignment group.

Measured, not assumed: every training holds out a fifth of the tickets (fixed seed) and records top-1 and top-3
accuracy against the majority-class baseline before fitting on everything.
"""

from __future__ import annotations

import io
import random
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import joblib
import numpy as np
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import SGDClassifier
from sklearn.pipeline import Pipeline, make_pipeline

from automation.models import CategoriserSettings, CategorySuggestion, TrainingRun, TrainingStatus
from itsm.configcache import ConfigCache
from itsm.enums import JournalKind, StateCategory
from itsm.models import Category, Team, Ticket
from itsm.rules import is_agent
from itsm.services import journal_add, journal_field_changes, ticket_category_errors

SEED = 42
HELD_OUT = 0.2
LABELLED_STATES = [StateCategory.RESOLVED, StateCategory.CLOSED]


def ticket_text(short_description: str, description: str) -> str:
    return f"{short_description}\n{description}"


def pipeline(seed: int = SEED) -> Pipeline:
    """TF-IDF of words and word pairs, then a linear model trained with logistic loss (calibrated-enough scores)."""
    return make_pipeline(
        TfidfVectorizer(sublinear_tf=True, ngram_range=(1, 2), min_df=2, max_features=200_000),
        SGDClassifier(loss="log_loss", alpha=1e-5, max_iter=50, tol=1e-4, random_state=seed),
    )


@dataclass(frozen=True)
class Evaluation:
    """Held-out accuracy of the classifier against always answering the most frequent training label."""

    samples: int
    train: int
    test: int
    classes: int
    top1: float
    top3: float
    baseline: float

    def as_dict(self) -> dict[str, Any]:
        return self.__dict__.copy()


def split(n: int, *, seed: int = SEED, held_out: float = HELD_OUT) -> tuple[list[int], list[int]]:
    order = list(range(n))
    random.Random(seed).shuffle(order)
    cut = max(1, round(n * held_out))
    return order[cut:], order[:cut]


def evaluate(texts: Sequence[str], labels: Sequence[Any], *, seed: int = SEED) -> Evaluation:
    """Train on four fifths (shuffled with `seed`), measure top-1 and top-3 on the rest, beside the baseline."""
    train, test = split(len(texts), seed=seed)
    model = pipeline(seed).fit([texts[i] for i in train], [labels[i] for i in train])
    truth = [labels[i] for i in test]
    scores = model.predict_proba([texts[i] for i in test])
    ranked = model.classes_[np.argsort(-scores, axis=1)[:, :3]]
    majority = Counter(labels[i] for i in train).most_common(1)[0][0]
    return Evaluation(
        samples=len(texts),
        train=len(train),
        test=len(test),
        classes=len(set(labels)),
        top1=float(np.mean([row[0] == label for row, label in zip(ranked, truth, strict=True)])),
        top3=float(np.mean([label in row for row, label in zip(ranked, truth, strict=True)])),
        baseline=float(np.mean([label == majority for label in truth])),
    )


def training_data(practice: str) -> tuple[list[str], list[int], list[int | None]]:
    """The texts, category ids and group ids of the practice's resolved and closed tickets that have a category."""
    rows = Ticket.objects.filter(kind=practice, state_category__in=LABELLED_STATES, category__isnull=False).values_list(
        "short_description", "description", "category_id", "assignment_group_id"
    )
    texts, categories, groups = [], [], []
    for short, description, category, group in rows.order_by("id").iterator(chunk_size=2000):
        texts.append(ticket_text(short, description))
        categories.append(category)
        groups.append(group)
    return texts, categories, groups


def _dump(model: Pipeline) -> bytes:
    buffer = io.BytesIO()
    joblib.dump(model, buffer)
    return buffer.getvalue()


def _progress(run: TrainingRun, percent: int, message: str) -> None:
    # Saved outside the training's own work so the admin and the API see it move while the run goes on.
    TrainingRun.objects.filter(pk=run.pk).update(progress=percent, message=message)


def categoriser_train(*, run_id: int, on_progress: Callable[[int, str], None] | None = None) -> TrainingRun | None:
    """Train one queued run: held-out evaluation, then the category and group models fitted on every ticket.

    Effects: the run moves queued -> running -> done (or failed, with the reason); it becomes the practice's model.
    A run that is not queued (already taken) is left alone, so the task is safe to run twice.
    """
    taken = TrainingRun.objects.filter(pk=run_id, status=TrainingStatus.QUEUED).update(
        status=TrainingStatus.RUNNING, progress=1, message="Reading the resolved tickets."
    )
    if not taken:
        return None
    run = TrainingRun.objects.get(pk=run_id)

    def report(percent: int, message: str) -> None:
        _progress(run, percent, message)
        if on_progress is not None:
            on_progress(percent, message)

    try:
        texts, categories, groups = training_data(run.practice)
        needed = max(CategoriserSettings.current().min_tickets, 5)
        if len(texts) < needed or len(set(categories)) < 2:
            raise ValueError(
                f"{len(texts)} resolved tickets with {len(set(categories))} categories; need {needed} and 2 or more."
            )
        report(20, f"Measuring on {len(texts)} tickets (a fifth held out).")
        evaluation = evaluate(texts, categories)
        report(60, "Fitting the category model on every ticket.")
        run.category_model = _dump(pipeline().fit(texts, categories))
        labelled = [(text, group) for text, group in zip(texts, groups, strict=True) if group is not None]
        if len({group for _text, group in labelled}) >= 2:
            report(85, "Fitting the assignment group model.")
            run.group_model = _dump(pipeline().fit([t for t, _g in labelled], [g for _t, g in labelled]))
    except Exception as error:  # any failure is recorded on the run, never lost in a worker log
        TrainingRun.objects.filter(pk=run.pk).update(
            status=TrainingStatus.FAILED, message=str(error)[:2000], finished_at=timezone.now()
        )
        return TrainingRun.objects.get(pk=run.pk)
    run.status, run.progress, run.finished_at = TrainingStatus.DONE, 100, timezone.now()
    run.samples, run.classes = evaluation.samples, evaluation.classes
    run.top1, run.top3, run.baseline = evaluation.top1, evaluation.top3, evaluation.baseline
    run.message = (
        f"Held out {evaluation.test}: top-1 {evaluation.top1:.1%}, top-3 {evaluation.top3:.1%}, "
        f"majority baseline {evaluation.baseline:.1%}."
    )
    run.save()
    return run


def categoriser_request(*, practice: str, by: User | None) -> TrainingRun:
    """Queue a training of the practice's categoriser (run by a worker after commit); admins and agents ask."""
    if by is not None and not is_agent(by):
        raise PermissionDenied("Only agents can retrain the categoriser.")
    if practice not in {kind for kind, _label in Ticket._meta.get_field("kind").choices}:
        raise ValidationError({"practice": f"Unknown practice '{practice}'."})
    run = TrainingRun.objects.create(practice=practice, requested_by=by)
    from automation.tasks import categoriser_train_task

    transaction.on_commit(lambda: categoriser_train_task.delay(run_id=run.pk))
    return run


def categoriser_practices() -> list[str]:
    """The practices that have categories (the ones worth training)."""
    return sorted(set(Category.objects.filter(active=True).values_list("practice", flat=True)))


# The fitted models of the run in use, per practice: loaded once per process and run.
_LOADED: dict[str, tuple[int, Pipeline | None, Pipeline | None]] = {}


def run_in_use(practice: str) -> TrainingRun | None:
    """The practice's latest finished training: the one whose models suggest categories."""
    done = TrainingRun.objects.filter(practice=practice, status=TrainingStatus.DONE)
    return done.only("id", "practice").order_by("-finished_at", "-id").first()


def _runs_in_use() -> dict[str, TrainingRun]:
    runs = {practice: run_in_use(practice) for practice in categoriser_practices()}
    return {practice: run for practice, run in runs.items() if run is not None}


# The categoriser's settings and each practice's run in use, per process for a few seconds (itsm.configcache): every
# ticket created asked for both. A training that ends saves its run, which clears the answer in its own process.
CATEGORISER_SETTINGS = ConfigCache(CategoriserSettings.current, model="automation.CategoriserSettings")
RUNS_IN_USE = ConfigCache(_runs_in_use, model="automation.TrainingRun")


def _models(practice: str) -> tuple[TrainingRun | None, Pipeline | None, Pipeline | None]:
    run = RUNS_IN_USE.get().get(practice)
    if run is None:
        return None, None, None
    cached = _LOADED.get(practice)
    if cached is None or cached[0] != run.pk:
        blobs = TrainingRun.objects.filter(pk=run.pk).values_list("category_model", "group_model").first()
        if blobs is None:  # deleted since this process cached it
            RUNS_IN_USE.clear()
            return None, None, None
        loaded = [joblib.load(io.BytesIO(bytes(blob))) if blob else None for blob in blobs]
        cached = _LOADED[practice] = (run.pk, loaded[0], loaded[1])
    return run, cached[1], cached[2]


def _best(model: Pipeline | None, text: str) -> tuple[Any, float] | None:
    if model is None:
        return None
    scores = model.predict_proba([text])[0]
    best = int(np.argmax(scores))
    return model.classes_[best], float(scores[best])


def suggestion_step(ticket: Ticket, *, save: bool):
    """The categoriser's step for a new ticket without a category: apply above the threshold, else only suggest.

    With `save`, the suggestion is stored (the agent sees it and may accept it with one click).
    """
    from automation.services import Step, _set

    if ticket.category_id is not None:
        return None
    settings = CATEGORISER_SETTINGS.get()
    if not settings.enabled:
        return None
    run, category_model, group_model = _models(ticket.kind)
    if run is None:
        return None
    text = ticket_text(ticket.short_description, ticket.description)
    guess = _best(category_model, text)
    category = Category.objects.filter(pk=guess[0], active=True, practice=ticket.kind).first() if guess else None
    if category is None or category.parent_id is not None:
        return None
    group_guess = _best(group_model, text)
    group = Team.objects.filter(pk=group_guess[0], active=True).first() if group_guess else None
    threshold = settings.auto_apply_threshold
    step = Step(source=f"Learned categoriser (training {run.pk})")
    if guess[1] >= threshold:
        _set(ticket, step, "category", category)
        if group is not None and ticket.assignment_group_id is None and group_guess[1] >= threshold:
            _set(ticket, step, "assignment_group", group)
        step.note = f"Suggested with confidence {guess[1]:.0%} (applied at {threshold:.0%} or more)."
    if save:
        CategorySuggestion.objects.update_or_create(
            ticket_id=ticket.pk,
            defaults={
                "run": run,
                "category": category,
                "confidence": guess[1],
                "assignment_group": group,
                "group_confidence": group_guess[1] if group_guess else None,
                "applied": bool(step.changes),
            },
        )
    if not step.changes:
        step.note = f"Suggests {category} with confidence {guess[1]:.0%} (below {threshold:.0%}: not applied)."
    return step


@transaction.atomic
def suggestion_accept(*, ticket: Ticket, by: User) -> Ticket:
    """An agent applies the stored suggestion with one click: the category (and the group when none is set),
    journaled as the agent's change."""
    if not is_agent(by):
        raise PermissionDenied("Only agents can accept a suggestion.")
    suggestion = CategorySuggestion.objects.select_for_update().filter(ticket=ticket).first()
    if suggestion is None or suggestion.category is None:
        raise ValidationError({"suggestion": "This ticket has no category suggestion."})
    if not ticket.active:
        raise ValidationError({"state": "A closed ticket cannot be changed."})
    changes = []
    if ticket.category_id != suggestion.category_id:
        changes.append(("category", ticket.category, suggestion.category))
        if ticket.subcategory is not None:
            changes.append(("subcategory", ticket.subcategory, None))
    if ticket.assignment_group_id is None and suggestion.assignment_group is not None:
        changes.append(("assignment_group", None, suggestion.assignment_group))
    for name, _old, new in changes:
        setattr(ticket, name, new)
    errors = ticket_category_errors(ticket)
    if errors:
        raise ValidationError(errors)
    if changes:
        ticket.save(update_fields=[*(name for name, _o, _n in changes), "updated_at"])
        journal_field_changes(ticket=ticket, actor=by, changes=changes)
        what = "; ".join(f"{name.replace('_', ' ')} → {new or 'none'}" for name, _old, new in changes)
        journal_add(
            ticket=ticket,
            actor=by,
            kind=JournalKind.WORK_NOTE,
            body=f"Applied from the categoriser's suggestion (confidence {suggestion.confidence:.0%}): {what}.",
        )
        from slas.services import sla_evaluate

        # The category and the group are SLA match conditions.
        sla_evaluate(ticket=ticket)
    suggestion.accepted_by = by
    suggestion.save(update_fields=["accepted_by"])
    return ticket
