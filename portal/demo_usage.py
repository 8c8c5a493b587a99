"""Ten weeks of believable portal usage for the demo people, so the adoption dashboard and the
benefits scorecard open on real trends instead of a single spike on the day `seed_demo` ran.

Nothing here writes a figure. It replays what people would have done, through the paths
real usage takes:
- page views of real pages (dashboards, experiments, documents, insights, roadmaps… that the
  apps' demos created), with the properties `UsageMiddleware` records for that URL;
- searches run through the real global search, recording how many results it really found;
- first views of research insights through `research.services.insight_record_view` (which
  writes the `insight.view` audit entry the scorecard reads), backdated to when they happened;
- the audit entries the apps' demos wrote for self-serve actions (documents created,
  experiments created/started/decided, insights published, dashboards created) moved to the
  date the object itself carries (the demos backdate the objects, not the log), each with
  the `action_performed` usage event a real request would have sent.
All usage events go through the usage buffer, `portal.usage.flush` and
`analytics.services.events_ingest`, like live usage. Adoption grows over the ten weeks.
"""

from __future__ import annotations

import random
import uuid
import zoneinfo
from datetime import UTC, datetime, time, timedelta

from django.urls import NoReverseMatch, Resolver404, resolve, reverse
from django.utils import timezone

from portal import usage
from portal.home import model
from portal.models import AuditEntry, Role

WEEKS = 10
UUID_NAMESPACE = uuid.UUID("5b0c7a52-64f4-4d7e-9f57-0c1c2d6e1a10")

# What people look for. Some find nothing on the demo, which is what `found` is for.
QUERIES = [
    "checkout",
    "conversion",
    "payment",
    "retention",
    "onboarding",
    "pricing",
    "dashboard",
    "delivery fee",
    "wallet",
    "invoice",
    "churn",
    "experiment brief",
    "search",
    "fraud",
    "gdpr data processing addendum",
    "okr template",
]

# Self-serve actions the apps' demos performed: (action, target type, model, date field).
BACKDATED_ACTIONS = [
    ("document.create", "tooling.document", "tooling.Document", "created_at"),
    ("experiment.create", "experiments.experiment", "experiments.Experiment", "created_at"),
    ("experiment.start", "experiments.experiment", "experiments.Experiment", "started_at"),
    ("experiment.decide", "experiments.experiment", "experiments.Experiment", "decided_at"),
    ("insight.publish", "research.insight", "research.Insight", "published_at"),
    ("dashboard.create", "analytics.dashboard", "analytics.Dashboard", "created_at"),
]


def _url(name: str, *args) -> str | None:
    try:
        return reverse(name, args=args)
    except NoReverseMatch:
        return None


class _Pages:
    """Real paths people can open, grouped so each role browses what it works on."""

    def __init__(self, org) -> None:
        self.by_product: dict[int, list[str]] = {p.pk: [] for p in org.products.values()}
        self.shared: dict[str, list[str]] = {}
        self.insights: list = []
        for product in org.products.values():
            for name in ["analytics:product", "analytics:plan", "analytics:quality", "tooling:roadmap-board"]:
                if path := _url(name, product.slug):
                    self.by_product[product.pk].append(path)
        for label, kinds in [
            ("analytics.Dashboard", "dashboard"),
            ("experiments.Experiment", "experiment"),
            ("tooling.Document", "document"),
            ("tooling.RoadmapItem", "roadmap"),
        ]:
            Model = model(label)
            if Model is None:
                continue
            qs = Model.objects.filter(product_id__in=list(self.by_product))
            if label == "tooling.Document":
                qs = qs.exclude(status="archived")
            for obj in qs.only("pk", "product_id", *(["key"] if kinds == "experiment" else [])):
                try:
                    self.by_product[obj.product_id].append(obj.get_absolute_url())
                except NoReverseMatch:
                    continue
        Insight = model("research.Insight")
        if Insight is not None:
            self.insights = list(Insight.objects.filter(status="published"))
        Theme = model("feedback.Theme")
        feedback = [t.get_absolute_url() for t in Theme.objects.filter(status="active")[:20]] if Theme else []
        Article = model("onboarding.Article")
        articles = [a.get_absolute_url() for a in Article.objects.all()[:20]] if Article else []
        Template = model("tooling.Template")
        templates = [t.get_absolute_url() for t in Template.objects.filter(status="published")] if Template else []

        def paths(*names: str) -> list[str]:
            return [p for p in (_url(n) for n in names) if p]

        self.shared = {
            "home": paths("home"),
            "experiments": paths("experiments:index", "experiments:power", "experiments:guide"),
            "tooling": paths("tooling:document-list", "tooling:template-list", "tooling:roadmap-portfolio") + templates,
            "research": paths("research:insights", "research:index"),
            "feedback": paths("feedback:index") + feedback,
            "onboarding": paths("onboarding:index") + articles,
            "analytics": paths("analytics:index"),
            "ops": paths("adoption", "scorecard", "tooling:adoption", "reports"),
            "research_team": paths("research:studies", "research:participants", "research:search"),
        }


def _at(day, person, rng: random.Random) -> datetime:
    """A moment in the person's working day, in UTC."""
    try:
        tz = zoneinfo.ZoneInfo(person.timezone or "UTC")
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        tz = zoneinfo.ZoneInfo("UTC")
    local = datetime.combine(day, time(hour=rng.randint(8, 17), minute=rng.randint(0, 59)), tzinfo=tz)
    return local.astimezone(UTC)


def _page_view(person, path: str, at: datetime, key: str) -> bool:
    try:
        match = resolve(path)
    except Resolver404:
        return False
    candidates = [v for k in ("product_slug", "product", "slug") if isinstance(v := match.kwargs.get(k), str) and v]
    props = usage.page_view_properties(match, path, candidates)
    usage.track_at("page_viewed", person, at=at, event_uuid=str(uuid.uuid5(UUID_NAMESPACE, key)), **props)
    return True


def _backdate_actions(start: datetime, now: datetime) -> list[AuditEntry]:
    """Move the demos' self-serve audit entries to their objects' own dates (demo only: the log
    is append-only through the app; a fresh demo's rows are the one exception, as in onboarding)."""
    moved = []
    for action, target_type, label, field in BACKDATED_ACTIONS:
        Model = model(label)
        if Model is None:
            continue
        entries = list(
            AuditEntry.objects.filter(action=action, target_type=target_type)
            .exclude(actor=None)
            .select_related("actor")
        )
        ids = {int(e.target_id) for e in entries if e.target_id.isdigit()}
        dates = dict(Model.objects.filter(pk__in=ids).exclude(**{field: None}).values_list("pk", field))
        for entry in entries:
            when = dates.get(int(entry.target_id)) if entry.target_id.isdigit() else None
            if when is None or when < start or when > now or entry.at - when < timedelta(hours=1):
                continue
            AuditEntry.objects.filter(pk=entry.pk).update(at=when)
            entry.at = when
            moved.append(entry)
    return moved


def _action_event(entry: AuditEntry, product_ids: dict[str, int | None]) -> None:
    tool = usage.ACTION_TOOLS.get(entry.action.split(".", 1)[0], "portal")
    usage.track_at(
        "action_performed",
        entry.actor,
        at=entry.at,
        event_uuid=str(uuid.uuid5(UUID_NAMESPACE, f"action-{entry.pk}")),
        action=entry.action,
        tool=tool,
        _product_id=product_ids.get(f"{entry.target_type}:{entry.target_id}"),
    )


def _target_products(entries: list[AuditEntry]) -> dict[str, int | None]:
    """product_id of each audit target, as `usage.track_action` sends it."""
    out: dict[str, int | None] = {}
    by_type: dict[str, set[int]] = {}
    for e in entries:
        if e.target_id.isdigit():
            by_type.setdefault(e.target_type, set()).add(int(e.target_id))
    for target_type, ids in by_type.items():
        Model = model(target_type)
        if Model is None or not any(f.name == "product" for f in Model._meta.fields):
            continue
        for pk, product_id in Model.objects.filter(pk__in=ids).values_list("pk", "product_id"):
            out[f"{target_type}:{pk}"] = product_id
    return out


def seed_usage(org, *, small: bool = False) -> str:
    """Generate the history once (a demo that already has usage older than a week keeps it)."""
    from portal import adoption
    from portal.search import search

    now = timezone.now()
    start = now - timedelta(weeks=WEEKS)
    if adoption.usage_events().filter(timestamp__lt=now - timedelta(days=7)).exists():
        return "usage history already present"
    rng = random.Random(f"portal-usage-{'small' if small else 'full'}")
    pages = _Pages(org)
    people = [u for u in org.users.values() if u.is_active]
    if small:
        people = [u for u in people if u.username in {"pm", "newpm", "amara", "diego", "ops", "researcher", "viewer"}]
    members: dict[int, set[int]] = {u.pk: set() for u in people}
    for product in org.products.values():
        for user_id in product.members.values_list("pk", flat=True):
            members.setdefault(user_id, set()).add(product.pk)
        if product.pm_owner_id:
            members.setdefault(product.pm_owner_id, set()).add(product.pk)

    Insight, InsightView = model("research.Insight"), model("research.InsightView")
    found_cache: dict[tuple[str, str], int] = {}
    views = searches = insight_views = 0
    days = [(start + timedelta(days=d)).date() for d in range(WEEKS * 7)]
    for person in people:
        # Adoption grows: a person's chance of using the portal on a working day rises over
        # the ten weeks, from where they started to a steadier habit.
        base = rng.uniform(0.15, 0.4)
        habit = rng.uniform(0.55, 0.9)
        joined = 0 if person.username != "newpm" else len(days) - 30
        for index, day in enumerate(days):
            if index < joined or day.weekday() >= 5:
                continue
            if rng.random() > base + (habit - base) * index / len(days):
                continue
            for n in range(rng.randint(2, 5 if small else 9)):
                at = _at(day, person, rng)
                path = _choose_path(person, pages, members.get(person.pk, set()), rng)
                if path and _page_view(person, path, at, f"view-{person.pk}-{day}-{n}"):
                    views += 1
            if rng.random() < 0.3:
                query = rng.choice(QUERIES)
                role_key = (query, "ops" if person.is_ops_lead else "other")
                if role_key not in found_cache:
                    found_cache[role_key] = len(search(query, person))
                results = found_cache[role_key]
                usage.track_at(
                    "search_performed",
                    person,
                    at=_at(day, person, rng),
                    event_uuid=str(uuid.uuid5(UUID_NAMESPACE, f"search-{person.pk}-{day}")),
                    results=results,
                    found=bool(results),
                    types="",
                )
                searches += 1
            reads_research = person.role in (Role.PM, Role.OPS_LEAD)
            if Insight is not None and pages.insights and reads_research and rng.random() < 0.2:
                insight = rng.choice(pages.insights)
                at = _at(day, person, rng)
                _page_view(person, insight.get_absolute_url(), at, f"insight-{person.pk}-{day}")
                from research.services import insight_record_view

                if insight_record_view(insight=insight, user=person):
                    AuditEntry.objects.filter(
                        action="insight.view", actor=person, target_id=str(insight.pk), at__gte=now
                    ).update(at=at)
                    InsightView.objects.filter(insight=insight, user=person).update(at=at)
                    insight_views += 1
    moved = _backdate_actions(start, now)
    recorded = list(
        AuditEntry.objects.filter(action="insight.view", at__gte=start, at__lt=now - timedelta(hours=1)).select_related(
            "actor"
        )
    )
    entries = moved + [e for e in recorded if e.actor_id]
    products = _target_products(entries)
    for entry in entries:
        _action_event(entry, products)
    ingested = usage.flush_all()
    return (
        f"{views:,} page views, {searches:,} searches, {insight_views} insight first-views, "
        f"{len(moved)} self-serve actions dated, {ingested:,} usage events ingested over {WEEKS} weeks"
    )


# Where each role spends its time: (share, area).
ROLE_AREAS = {
    Role.PM: [
        (40, "own"),
        (10, "other"),
        (8, "home"),
        (10, "experiments"),
        (8, "tooling"),
        (8, "research"),
        (8, "feedback"),
        (4, "onboarding"),
        (4, "analytics"),
    ],
    Role.OPS_LEAD: [(30, "ops"), (25, "other"), (15, "tooling"), (10, "home"), (10, "analytics"), (10, "onboarding")],
    Role.RESEARCHER: [(45, "research_team"), (25, "research"), (15, "feedback"), (15, "home")],
    Role.VIEWER: [(50, "home"), (30, "experiments"), (20, "other")],
}


def _choose_path(person, pages: _Pages, own: set[int], rng: random.Random) -> str | None:
    areas = ROLE_AREAS.get(person.role, ROLE_AREAS[Role.VIEWER])
    if person.username == "newpm":
        areas = [(40, "onboarding"), *areas]
    area = rng.choices([a for _, a in areas], weights=[w for w, _ in areas])[0]
    if area in ("own", "other"):
        pool = [pk for pk in pages.by_product if (pk in own) == (area == "own") and pages.by_product[pk]]
        if not pool:
            return None
        return rng.choice(pages.by_product[rng.choice(pool)])
    choices = pages.shared.get(area) or []
    return rng.choice(choices) if choices else None
