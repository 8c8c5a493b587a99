"""Research reads. Personal data is filtered here, in the queryset: callers get participants
whose name/email/company are only loaded for viewers allowed to see them (research.access)."""

from __future__ import annotations

from django.contrib.postgres.search import SearchQuery, SearchRank
from django.db.models import Case, CharField, Count, F, Prefetch, Q, QuerySet, Value, When

from research import access
from research.models import (
    ContactLog,
    Highlight,
    Insight,
    InsightStatus,
    Participant,
    Session,
    Study,
    StudyStatus,
    Tag,
)

PII_FIELDS = ("name", "email", "company")


def _pii_visible_q(user) -> Q | None:
    """None = everything visible; otherwise the participants this user may see named."""
    if access.sees_all_pii(user):
        return None
    if not (user and user.is_authenticated):
        return Q(pk__in=[])
    studies = Study.objects.filter(access.team_studies_q(user)).values("pk")
    return Q(pk__in=ContactLog.objects.filter(study__in=studies).values("participant_id")) | Q(
        pk__in=Session.objects.filter(study__in=studies).values("participant_id")
    )


def participant_list(*, user, q: str = "", country: str = "", source: str = "") -> QuerySet[Participant]:
    """Participants with `visible_name`, `visible_email`, `visible_company` annotated: the real
    values for people allowed to see them, empty otherwise; the raw PII columns are not loaded."""
    qs = Participant.objects.defer(*PII_FIELDS)
    cond = _pii_visible_q(user)
    if cond is None:
        qs = qs.annotate(visible_name=F("name"), visible_email=F("email"), visible_company=F("company"))
    else:
        qs = qs.annotate(
            **{
                f"visible_{f}": Case(When(cond, then=F(f)), default=Value(""), output_field=CharField())
                for f in PII_FIELDS
            }
        )
    if q:
        term = q.strip()
        match = Q(role__icontains=term)
        if term.upper().startswith("P-") and term[2:].isdigit():
            match |= Q(pk=int(term[2:]) - 1000)
        if cond is None:
            match |= Q(name__icontains=term) | Q(email__icontains=term) | Q(company__icontains=term)
        else:
            # Search by PII only among the people this viewer may see named.
            match |= cond & (Q(name__icontains=term) | Q(email__icontains=term) | Q(company__icontains=term))
        qs = qs.filter(match)
    if country:
        qs = qs.filter(country=country.upper())
    if source:
        qs = qs.filter(source=source)
    return qs.order_by("-id")


def participant_get(*, user, pk: int) -> Participant:
    return participant_list(user=user).get(pk=pk)


def participant_contacts(*, participant: Participant) -> QuerySet[ContactLog]:
    return participant.contacts.select_related("study", "by")


def study_list(*, user=None, status: str = "", product: str = "", method: str = "", q: str = "") -> QuerySet[Study]:
    qs = (
        Study.objects.select_related("owner")
        .prefetch_related("products")
        .annotate(
            n_sessions=Count("sessions", distinct=True),
            n_highlights=Count("highlights", distinct=True),
        )
    )
    if status:
        qs = qs.filter(status=status)
    if product:
        qs = qs.filter(products__slug=product)
    if method:
        qs = qs.filter(method=method)
    if q:
        qs = qs.filter(title__icontains=q)
    return qs.order_by("-updated_at")


def study_get(*, pk: int) -> Study:
    return Study.objects.select_related("owner", "eligibility_rule").prefetch_related("products", "team").get(pk=pk)


def study_sessions(*, study: Study, user) -> list[Session]:
    sessions = list(study.sessions.select_related("incentive", "moderator").annotate(n_highlights=Count("highlights")))
    _attach_participants(sessions, user)
    return sessions


def _attach_participants(rows, user) -> None:
    """Replace each row's participant with the PII-filtered version from participant_list."""
    ids = {r.participant_id for r in rows}
    people = {p.pk: p for p in participant_list(user=user).filter(pk__in=ids)}
    for r in rows:
        r.participant = people[r.participant_id]


def study_invited(*, study: Study, user) -> list[ContactLog]:
    rows = list(study.contacts.filter(kind="invited").order_by("-at"))
    _attach_participants(rows, user)
    return rows


def session_get(*, pk: int, user) -> Session:
    session = Session.objects.select_related("study", "incentive", "moderator").get(pk=pk)
    _attach_participants([session], user)
    return session


def candidates(*, study: Study, user, limit: int = 50):
    from research import eligibility

    result = eligibility.evaluate(criteria=study.screener, rule=study.eligibility_rule, study_id=study.pk, limit=limit)
    people = participant_list(user=user).filter(pk__in=result.eligible_ids)
    by_id = {p.pk: p for p in people}
    return result, [by_id[i] for i in result.eligible_ids if i in by_id]


def tag_list(*, study: Study | None = None) -> QuerySet[Tag]:
    q = Q(study__isnull=True)
    if study is not None:
        q |= Q(study=study)
    return Tag.objects.filter(q).order_by("study_id", "name")


def highlight_list(*, study: Study | None = None, tag: str = "", product: str = "") -> QuerySet[Highlight]:
    """Highlights never load participants: pages show `participant_id`'s pseudonym."""
    qs = Highlight.objects.select_related("study", "session").prefetch_related("tags")
    if study is not None:
        qs = qs.filter(study=study)
    if tag:
        qs = qs.filter(tags__slug=tag)
    if product:
        qs = qs.filter(study__products__slug=product)
    return qs.distinct().order_by("-created_at")


def insights_visible(user) -> QuerySet[Insight]:
    """Published insights are open to everyone; drafts to their author, researchers and the study team."""
    qs = Insight.objects.all()
    if access.sees_all_pii(user) or (user.is_authenticated and user.is_ops_lead):
        return qs
    return qs.filter(
        Q(status=InsightStatus.PUBLISHED)
        | Q(created_by=user)
        | Q(study__in=Study.objects.filter(access.team_studies_q(user)).values("pk"))
    )


def insight_list(
    *, user, product: str = "", tag: str = "", status: str = "", confidence: str = "", q: str = ""
) -> QuerySet[Insight]:
    qs = (
        insights_visible(user)
        .select_related("study", "created_by")
        .prefetch_related("products", "tags")
        .annotate(n_highlights=Count("highlights", distinct=True), n_evidence=Count("evidence", distinct=True))
    )
    if product:
        qs = qs.filter(products__slug=product)
    if tag:
        qs = qs.filter(tags__slug=tag)
    if status:
        qs = qs.filter(status=status)
    if confidence:
        qs = qs.filter(confidence=confidence)
    if q:
        qs = qs.filter(search_vector=SearchQuery(q, search_type="websearch", config="english"))
    return qs.order_by("-published_at", "-created_at")


def insight_get(*, user, pk: int) -> Insight:
    return (
        insights_visible(user)
        .select_related("study", "created_by")
        .prefetch_related(
            "products",
            "tags",
            "evidence",
            Prefetch(
                "highlights", queryset=Highlight.objects.select_related("study", "session").prefetch_related("tags")
            ),
        )
        .get(pk=pk)
    )


def related_insights(*, insight: Insight, limit: int = 5) -> list[Insight]:
    """Published insights from OTHER products that share tags or words: cross-product learning."""
    product_ids = [p.pk for p in insight.products.all()]
    tag_ids = [t.pk for t in insight.tags.all()]
    words = [w for w in "".join(c if c.isalnum() else " " for c in insight.statement.lower()).split() if len(w) > 3]
    qs = (
        Insight.objects.filter(status=InsightStatus.PUBLISHED)
        .exclude(pk=insight.pk)
        .exclude(products__in=product_ids)
        .prefetch_related("products", "tags")
    )
    rank = Value(0.0)
    if words:
        rank = SearchRank(F("search_vector"), SearchQuery(" | ".join(words), search_type="raw", config="english"))
    qs = qs.annotate(shared_tags=Count("tags", filter=Q(tags__in=tag_ids), distinct=True), text_rank=rank)
    qs = qs.filter(Q(shared_tags__gt=0) | Q(text_rank__gt=0.01))
    return list(qs.order_by("-shared_tags", "-text_rank", "-published_at")[:limit])


def overview_counts() -> dict[str, int]:
    from research.models import Participant as P

    return {
        "participants": P.objects.filter(erased_at__isnull=True).count(),
        "active_studies": Study.objects.exclude(status__in=[StudyStatus.SHARED, StudyStatus.ARCHIVED]).count(),
        "highlights": Highlight.objects.count(),
        "published_insights": Insight.objects.filter(status=InsightStatus.PUBLISHED).count(),
    }
