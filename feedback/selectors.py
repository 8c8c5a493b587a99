"""Feedback reads: querysets for pages and APIs, with the permission filters."""

from __future__ import annotations

from collections import defaultdict
from datetime import timedelta

from django.db.models import Count, Q, QuerySet
from django.db.models.functions import TruncMonth
from django.utils import timezone

from feedback import sentiment as sentiment_mod
from feedback.models import (
    DuplicateStatus,
    FeedbackItem,
    FeedbackSource,
    ItemState,
    PipelineRun,
    SourceKind,
    Theme,
    ThemeStatus,
    ThemeWeek,
)

COUNTED = ~Q(duplicate_status__in=[DuplicateStatus.EXACT, DuplicateStatus.CONFIRMED])


def can_see_contacts(user) -> bool:
    """Customer contacts are personal data: for people who follow up, never viewers."""
    return bool(user and user.is_authenticated and not user.is_viewer)


def source_list() -> QuerySet[FeedbackSource]:
    return FeedbackSource.objects.select_related("default_product").annotate(item_count=Count("items")).order_by("name")


def item_list(
    *, source: str | None = None, product=None, theme=None, segment: str | None = None, q: str = ""
) -> QuerySet[FeedbackItem]:
    qs = FeedbackItem.objects.select_related("source", "account", "product", "theme", "area")
    if source:
        qs = qs.filter(source__slug=source)
    if product is not None:
        qs = qs.filter(product=product)
    if theme is not None:
        qs = qs.filter(theme=theme)
    if segment:
        qs = qs.filter(account__segment=segment)
    if q:
        qs = qs.filter(text__icontains=q)
    return qs.order_by("-created_at", "-id")


def theme_list(*, product=None, all_products: bool = False, include_proposed: bool = True) -> QuerySet[Theme]:
    statuses = [ThemeStatus.ACTIVE, ThemeStatus.PROPOSED] if include_proposed else [ThemeStatus.ACTIVE]
    qs = Theme.objects.filter(status__in=statuses).select_related("product")
    if not all_products:
        qs = qs.filter(product=product)
    return qs.order_by("-score", "id")


def theme_weeks(theme_ids, *, weeks: int = 12) -> dict[int, list[ThemeWeek]]:
    since = timezone.now().date() - timedelta(weeks=weeks)
    out: dict[int, list[ThemeWeek]] = defaultdict(list)
    for row in ThemeWeek.objects.filter(theme_id__in=list(theme_ids), week__gte=since).order_by("week"):
        out[row.theme_id].append(row)
    return out


def theme_accounts(theme: Theme, *, with_contacts: bool) -> list[dict]:
    """Accounts that asked, biggest ARR first, with how often and (if allowed) contacts."""
    rows = (
        FeedbackItem.objects.filter(COUNTED, theme=theme, account__isnull=False)
        .values("account_id", "account__name", "account__segment", "account__arr")
        .annotate(items=Count("id"))
        .order_by("-account__arr", "account__name")
    )
    accounts = [
        {"id": r["account_id"], "name": r["account__name"], "segment": r["account__segment"],
         "arr": r["account__arr"], "items": r["items"], "contacts": []}
        for r in rows
    ]  # fmt: skip
    if with_contacts and accounts:
        from feedback.models import Contact

        by_account = defaultdict(list)
        for contact in Contact.objects.filter(account_id__in=[a["id"] for a in accounts]):
            by_account[contact.account_id].append(contact)
        for account in accounts:
            account["contacts"] = by_account[account["id"]]
    return accounts


def failed_items() -> QuerySet[FeedbackItem]:
    return FeedbackItem.objects.filter(state=ItemState.FAILED).select_related("source", "product")


def pending_count() -> int:
    return FeedbackItem.objects.filter(state=ItemState.PENDING).count()


def suggested_duplicates() -> QuerySet[FeedbackItem]:
    return (
        FeedbackItem.objects.filter(duplicate_status=DuplicateStatus.SUGGESTED)
        .select_related("duplicate_of", "account", "source", "duplicate_of__source")
        .order_by("-created_at")
    )


def last_run(*, kind: str, product=None) -> PipelineRun | None:
    return PipelineRun.objects.filter(kind=kind, product=product).first()


def survey_scores(*, kind: str, product=None, months: int = 12, by_segment: bool = False) -> list[dict]:
    """NPS or CSAT per month (and segment), with 95% intervals, from survey-source items."""
    since = timezone.now() - timedelta(days=31 * months)
    qs = FeedbackItem.objects.filter(COUNTED, source__kind=kind, rating__isnull=False, created_at__gte=since)
    if product is not None:
        qs = qs.filter(product=product)
    group = ["month", "account__segment"] if by_segment else ["month"]
    if kind == SourceKind.NPS:
        agg = {
            "n": Count("id"),
            "promoters": Count("id", filter=Q(rating__gte=9)),
            "detractors": Count("id", filter=Q(rating__lte=6)),
        }
    else:
        agg = {
            "n": Count("id"),
            "satisfied": Count("id", filter=Q(rating__gte=4, rating__lte=5) | Q(rating__gte=8)),
        }
    rows = qs.annotate(month=TruncMonth("created_at")).values(*group).annotate(**agg).order_by(*group)
    out = []
    for row in rows:
        if kind == SourceKind.NPS:
            score = sentiment_mod.nps_counts(
                row["promoters"], row["n"] - row["promoters"] - row["detractors"], row["detractors"]
            )
        else:
            score = sentiment_mod.csat_counts(row["satisfied"], row["n"])
        if score is None:
            continue
        out.append({"month": row["month"].date(), "segment": row.get("account__segment") or "", **score.as_dict()})
    return out


def loop_items(roadmap_item) -> QuerySet[FeedbackItem]:
    """Items behind a roadmap item: those linked directly and those in linked themes."""
    from feedback.models import RoadmapLink

    links = RoadmapLink.objects.filter(roadmap_item=roadmap_item)
    return FeedbackItem.objects.filter(
        COUNTED,
        Q(pk__in=links.filter(item__isnull=False).values("item_id"))
        | Q(theme_id__in=links.filter(theme__isnull=False).values("theme_id")),
    )


def loop_accounts(roadmap_item, *, with_contacts: bool) -> list[dict]:
    """The accounts who asked, biggest ARR first, with their contacts when allowed."""
    from django.db.models import Max

    rows = (
        loop_items(roadmap_item)
        .filter(account__isnull=False)
        .values("account_id", "account__name", "account__segment", "account__arr")
        .annotate(items=Count("id"), last_asked=Max("created_at"))
        .order_by("-account__arr", "account__name")
    )
    accounts = [
        {"id": r["account_id"], "name": r["account__name"], "segment": r["account__segment"],
         "arr": r["account__arr"], "items": r["items"], "last_asked": r["last_asked"], "contacts": []}
        for r in rows
    ]  # fmt: skip
    if with_contacts and accounts:
        from feedback.models import Contact

        by_account = defaultdict(list)
        for contact in Contact.objects.filter(account_id__in=[a["id"] for a in accounts]):
            by_account[contact.account_id].append(contact)
        for account in accounts:
            account["contacts"] = by_account[account["id"]]
    return accounts


def loop_list(user):
    """Roadmap items with feedback linked, shipped first (those are the ones to follow up)."""
    from feedback.models import RoadmapLink

    return RoadmapLink.objects.select_related("roadmap_item__product", "theme", "item").order_by(
        "roadmap_item__status", "-created_at"
    )
