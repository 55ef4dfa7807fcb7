"""Portal knowledge base and report-an-issue: articles by category with search and votes, known errors from
problems, and the report form that suggests articles and open major incidents while the user types."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from incidents.forms import apply_service_errors
from incidents.services import incident_create
from itsm.enums import Impact
from itsm.services import attachment_add
from knowledge.models import ArticleVote, KnowledgeCategory
from knowledge.selectors import (
    article_list_published,
    knowledge_search,
    known_error_list_published,
    major_incidents_matching,
    major_incidents_open,
)
from knowledge.services import article_vote, deflection_record
from portal.forms import ReportForm


@login_required
def report(request: HttpRequest) -> HttpResponse:
    """Report an issue: what is wrong, which service, how urgent, a file; suggestions appear while typing."""
    form = ReportForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            # The incident and its file are one transaction: a refused file creates nothing.
            with transaction.atomic():
                incident = incident_create(
                    by=request.user,
                    caller=request.user,
                    short_description=form.cleaned_data["short_description"],
                    description=form.cleaned_data["description"],
                    urgency=form.cleaned_data["urgency"],
                    impact=Impact.LOW,
                    service=form.cleaned_data["service"],
                )
                if form.cleaned_data.get("attachment"):
                    attachment_add(ticket=incident, by=request.user, uploaded=form.cleaned_data["attachment"])
        except ValidationError as error:
            apply_service_errors(form, _attachment_error(error))
        else:
            messages.success(
                request,
                _("Thank you. We have logged your issue as %(number)s and will keep you informed.")
                % {"number": incident.number},
            )
            return redirect("portal:incident_detail", incident.number)
    status = 400 if request.method == "POST" else 200
    return render(request, "portal/report.html", {"form": form}, status=status)


def _attachment_error(error: ValidationError) -> ValidationError:
    if hasattr(error, "error_dict") and "file" in error.error_dict:
        return ValidationError({"attachment": error.error_dict["file"]})
    return error


@login_required
def suggestions(request: HttpRequest) -> HttpResponse:
    """Articles and open major incidents matching what is typed (an htmx fragment)."""
    query = request.GET.get("short_description", request.GET.get("q", "")).strip()[:200]
    context = {
        "q": query,
        "hits": knowledge_search(query=query, limit=5) if len(query) >= 3 else [],
        "majors": major_incidents_matching(query=query) if len(query) >= 3 else [],
    }
    return render(request, "portal/partials/suggestions.html", context)


@login_required
@require_POST
def solved(request: HttpRequest) -> HttpResponse:
    """'This solved it': count the deflection and thank the user (nothing is reported)."""
    kind, pk = request.POST.get("kind"), request.POST.get("pk", "")
    if not pk.isdigit() or kind not in ("article", "known_error", "incident"):
        raise Http404
    target: dict = {}
    if kind == "article":
        target["article"] = get_object_or_404(article_list_published(), pk=pk)
    elif kind == "known_error":
        target["known_error"] = get_object_or_404(known_error_list_published(), pk=pk)
    else:
        target["incident"] = get_object_or_404(major_incidents_open(), pk=pk)
    deflection_record(by=request.user, query=request.POST.get("q", ""), **target)
    messages.success(request, _("Glad that helped. Nothing was reported; come back any time."))
    return redirect("portal:home")


@login_required
def kb_home(request: HttpRequest, slug: str | None = None) -> HttpResponse:
    """The knowledge base: search, categories, and the articles of one category (or the most helpful)."""
    query = request.GET.get("q", "").strip()[:200]
    categories = list(KnowledgeCategory.objects.filter(articles__published=True).distinct())
    current = None
    articles = article_list_published()
    if slug is not None:
        current = next((c for c in categories if c.slug == slug), None)
        if current is None:
            raise Http404
        articles = articles.filter(category=current).order_by("title")
    else:
        articles = articles.order_by("-helpful_count", "title")[:10]
    context = {
        "q": query,
        "hits": knowledge_search(query=query, limit=20) if query else None,
        "categories": categories,
        "current": current,
        "articles": list(articles),
        "known_errors": list(known_error_list_published().order_by("-updated_at")[:5]) if slug is None else [],
    }
    return render(request, "portal/kb.html", context)


def _my_vote(request: HttpRequest, **target) -> ArticleVote | None:
    return ArticleVote.objects.filter(user=request.user, **target).first()


@login_required
def article(request: HttpRequest, slug: str) -> HttpResponse:
    item = get_object_or_404(article_list_published(), slug=slug)
    context = {"article": item, "kind": "article", "vote": _my_vote(request, article=item)}
    return render(request, "portal/kb_article.html", context)


@login_required
def known_error(request: HttpRequest, pk: int) -> HttpResponse:
    item = get_object_or_404(known_error_list_published(), pk=pk)
    context = {"article": item, "kind": "known_error", "vote": _my_vote(request, known_error=item)}
    return render(request, "portal/kb_article.html", context)


@login_required
@require_POST
def vote(request: HttpRequest) -> HttpResponse:
    """Helpful / not helpful on an article or a known error."""
    kind, pk = request.POST.get("kind"), request.POST.get("pk", "")
    helpful = request.POST.get("helpful")
    if not pk.isdigit() or kind not in ("article", "known_error") or helpful not in ("yes", "no"):
        raise Http404
    if kind == "article":
        target = get_object_or_404(article_list_published(), pk=pk)
        article_vote(by=request.user, helpful=helpful == "yes", article=target)
        url = reverse("portal:kb_article", args=[target.slug])
    else:
        target = get_object_or_404(known_error_list_published(), pk=pk)
        article_vote(by=request.user, helpful=helpful == "yes", known_error=target)
        url = reverse("portal:kb_known_error", args=[target.pk])
    messages.success(request, _("Thank you for your feedback."))
    return redirect(url + "#feedback")
