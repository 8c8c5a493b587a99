"""The Celery pipeline with a real worker, plus themes/signals services."""

import time
from datetime import timedelta

import pytest
from django.utils import timezone

from feedback import services
from feedback.models import FeedbackItem, ItemState, PipelineRun, SpikeAlert, Theme, ThemeStatus, ThemeWeek
from portal.models import AuditEntry, Notification
from tests.factories import ProductFactory, UserFactory
from tests.feedback.factories import AreaFactory, SourceFactory

TOPICS = {
    "apple": ["Apple Pay button {} at checkout", ["is missing", "does nothing", "disappears", "spins"]],
    "promo": ["Promo code field {}", ["rejects valid codes", "is hard to find", "clears on back", "is broken"]],
    "guest": ["Guest checkout please, the signup wall {}", ["loses orders", "is annoying", "kills sales", "sucks"]],
}


def _items(product, topic, n, *, start=0, days_ago=30, account=None):
    template, fillers = TOPICS[topic]
    now = timezone.now()
    return [
        {
            "external_id": f"{topic}-{start + i}",
            "text": template.format(fillers[i % len(fillers)]) + f" (order {start + i})",
            "product": product.slug,
            "account": account or {"name": f"Account {i % 7}", "segment": "smb", "arr": 10_000 * (1 + i % 7)},
            "created_at": (now - timedelta(days=days_ago, hours=i)).isoformat(),
        }
        for i in range(n)
    ]


def _wait(predicate, timeout=30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.2)
    return False


@pytest.mark.django_db(transaction=True)
def test_worker_processes_ingested_items_themes_and_recluster(celery_worker_thread, api_client):
    product = ProductFactory(slug="checkout")
    source = SourceFactory(slug="zendesk")
    AreaFactory(product=product, name="Payment step", keywords="apple pay, card")
    items = _items(product, "apple", 24) + _items(product, "promo", 24) + _items(product, "guest", 24)
    services.items_ingest(source=source, items=items)
    assert _wait(lambda: not FeedbackItem.objects.exclude(state=ItemState.PROCESSED).exists())
    item = FeedbackItem.objects.get(external_id="apple-0")
    assert item.sentiment is not None and item.area.name == "Payment step" and item.area_method == "rule"

    ops = UserFactory(role="ops_lead")
    api_client.force_authenticate(ops)
    response = api_client.post("/api/v1/feedback/recluster?product=checkout")
    assert response.status_code == 202, response.content
    run_id = response.json()["run"]
    assert _wait(lambda: PipelineRun.objects.get(pk=run_id).status == "done")
    themes = list(Theme.objects.filter(product=product))
    assert len(themes) == 3 and all(t.status == ThemeStatus.ACTIVE for t in themes)
    apple = Theme.objects.get(items__external_id="apple-0")
    assert "apple" in apple.label.lower() and apple.size == 24

    # a new item joins its theme incrementally; the API shows sentiment and theme
    services.items_ingest(source=source, items=_items(product, "apple", 1, start=100, days_ago=1))
    assert _wait(lambda: FeedbackItem.objects.get(external_id="apple-100").state == ItemState.PROCESSED)
    new = FeedbackItem.objects.get(external_id="apple-100")
    assert new.theme_id == apple.pk
    body = api_client.get("/api/v1/feedback/items?source=zendesk").json()
    assert body["count"] == 73
    row = next(r for r in body["results"] if r["external_id"] == "apple-100")
    assert row["theme"] == {"id": apple.pk, "label": apple.label} and row["sentiment"] is not None

    # re-cluster keeps stable ids and a renamed label
    services.theme_rename(theme=apple, label="Apple Pay broken", by=ops)
    services.themes_recluster(product=product)
    assert Theme.objects.get(pk=apple.pk).label == "Apple Pay broken"
    assert set(Theme.objects.filter(product=product).values_list("pk", flat=True)) == {t.pk for t in themes}
    themes_api = api_client.get("/api/v1/feedback/themes?product=checkout").json()
    assert {t["id"] for t in themes_api["results"]} == {t.pk for t in themes}
    assert set(themes_api["results"][0]) >= {"id", "label", "size", "score"}


@pytest.mark.django_db(transaction=True)
def test_processing_failure_is_recorded_listed_and_retried(celery_worker_thread, monkeypatch):
    product = ProductFactory()
    source = SourceFactory()
    real = services.sentiment_mod.sentiment_score

    def flaky(text):
        if "boom" in text:
            raise RuntimeError("lexicon unavailable")
        return real(text)

    monkeypatch.setattr(services.sentiment_mod, "sentiment_score", flaky)
    services.items_ingest(
        source=source,
        items=[
            {"external_id": "ok", "text": "Works fine", "product": product.slug},
            {"external_id": "bad", "text": "boom goes the parser", "product": product.slug},
        ],
    )
    assert _wait(lambda: FeedbackItem.objects.filter(state=ItemState.FAILED).exists())
    bad = FeedbackItem.objects.get(external_id="bad")
    assert bad.error == "RuntimeError: lexicon unavailable"
    assert bad.text == "boom goes the parser"  # the raw item is kept
    assert _wait(lambda: FeedbackItem.objects.get(external_id="ok").state == ItemState.PROCESSED)

    monkeypatch.setattr(services.sentiment_mod, "sentiment_score", real)
    services.item_retry(item=bad, by=UserFactory(role="ops_lead"))
    assert _wait(lambda: FeedbackItem.objects.get(external_id="bad").state == ItemState.PROCESSED)


@pytest.mark.django_db
def test_spike_raises_one_alert_per_spike(pm, product):
    source = SourceFactory()
    items = []
    for week in range(1, 10):  # a steady 3 a week for 9 weeks
        items += _items(product, "apple", 3, start=week * 10, days_ago=7 * week + 2)
    items += _items(product, "apple", 20, start=500, days_ago=0)  # 20 this week
    services.items_ingest(source=source, items=items)
    ids = list(FeedbackItem.objects.values_list("id", flat=True))
    services.items_process(item_ids=ids)
    theme = Theme.objects.create(product=product, label="Apple Pay", terms={"apple": 1.0})
    FeedbackItem.objects.update(theme=theme)
    services.signals_refresh(product=product)
    latest = ThemeWeek.objects.filter(theme=theme).order_by("-week").first()
    assert (latest.volume, latest.baseline) == (20, pytest.approx(3.0, abs=0.5)), [
        (w.week, w.volume) for w in ThemeWeek.objects.all()
    ]
    assert latest.is_spike
    assert SpikeAlert.objects.count() == 1
    note = Notification.objects.get(user=pm, kind="feedback.spike")
    assert "20 items this week" in note.title
    services.signals_refresh(product=product)  # the same spike does not alert again
    assert SpikeAlert.objects.count() == 1
    assert Notification.objects.filter(kind="feedback.spike").count() == 1
    theme.refresh_from_db()
    assert theme.score > 20 and theme.size == 47


@pytest.mark.django_db
def test_duplicates_exact_and_near_are_reviewable_and_reversible(product):
    source = SourceFactory()
    account = {"name": "Acme", "segment": "enterprise", "arr": 500_000}
    services.items_ingest(
        source=source,
        items=[
            {"external_id": "a", "text": "Refund stuck in pending for ten days now", "product": product.slug,
             "account": account},
            {"external_id": "b", "text": "refund stuck in pending for ten days now!", "product": product.slug,
             "account": account},
            {"external_id": "d", "text": "refund stuck in pending for ten days now", "product": product.slug,
             "account": {"name": "Other customer"}},
            {"external_id": "c", "text": "Our refund stuck in pending for ten days now", "product": product.slug,
             "account": account},
        ],
    )  # fmt: skip
    services.items_process(item_ids=list(FeedbackItem.objects.order_by("id").values_list("id", flat=True)))
    a, b, c, d = FeedbackItem.objects.order_by("external_id")
    assert (b.duplicate_of_id, b.duplicate_status) == (a.pk, "exact")
    assert (d.duplicate_of_id, d.duplicate_status) == (None, "")  # another customer asking is another vote
    assert (c.duplicate_of_id, c.duplicate_status) == (a.pk, "suggested")
    ops = UserFactory(role="ops_lead")
    services.duplicate_review(item=c, confirm=False, by=ops)
    c.refresh_from_db()
    assert c.duplicate_of is None and c.duplicate_status == "rejected"
    assert AuditEntry.objects.filter(action="feedback_item.duplicate_undo").count() == 1
    services.items_process(item_ids=[c.pk])  # a reviewed "not a duplicate" stays so
    c.refresh_from_db()
    assert c.duplicate_status == "rejected"


@pytest.mark.django_db
def test_ops_leads_merge_and_split_themes_pms_cannot(pm, product):
    source = SourceFactory()
    services.items_ingest(source=source, items=_items(product, "apple", 12) + _items(product, "promo", 12, start=50))
    services.items_process(item_ids=list(FeedbackItem.objects.values_list("id", flat=True)))
    one = Theme.objects.create(product=product, label="Everything", terms={"apple": 1.0})
    FeedbackItem.objects.update(theme=one)
    ops = UserFactory(role="ops_lead")
    with pytest.raises(Exception, match="Only ops leads"):
        services.theme_split(theme=one, by=pm)
    new = services.theme_split(theme=one, by=ops)
    assert one.items.count() == 12 and new.items.count() == 12
    services.theme_merge(theme=new, into=one, by=ops)
    new.refresh_from_db()
    assert new.status == "merged" and new.merged_into == one and one.items.count() == 24
    assert AuditEntry.objects.filter(action__in=["feedback_theme.split", "feedback_theme.merge"]).count() == 2


@pytest.mark.django_db
def test_recluster_proposes_new_topic_without_renumbering_stable_themes(product):
    source = SourceFactory()
    services.items_ingest(source=source, items=_items(product, "apple", 20) + _items(product, "promo", 20, start=100))
    services.items_process(item_ids=list(FeedbackItem.objects.values_list("id", flat=True)))
    services.themes_recluster(product=product)
    stable = {t.pk: t.label for t in Theme.objects.filter(product=product)}
    assert len(stable) == 2 and all(t.status == "active" for t in Theme.objects.all())

    services.items_ingest(source=source, items=_items(product, "guest", 20, start=300))
    new_ids = list(FeedbackItem.objects.filter(external_id__startswith="guest").values_list("id", flat=True))
    services.items_process(item_ids=new_ids)
    assert not FeedbackItem.objects.filter(pk__in=new_ids, theme__isnull=False).exists()  # no theme fits yet
    summary = services.themes_recluster(product=product)
    assert summary["matched"] == 2 and summary["new"] == 1
    proposed = Theme.objects.get(status=ThemeStatus.PROPOSED)
    assert "guest" in proposed.label.lower() or "signup" in proposed.label.lower()
    assert set(Theme.objects.filter(status="active").values_list("pk", flat=True)) == set(stable)
    assert FeedbackItem.objects.filter(pk__in=new_ids, theme=proposed).count() == 20


@pytest.mark.django_db
def test_signal_weeks_in_sql_equal_the_python_aggregate(product):
    from feedback import signals
    from feedback.services import COUNTED, _theme_weeks

    source = SourceFactory()
    items = _items(product, "apple", 30, days_ago=3) + _items(product, "promo", 20, start=50, days_ago=12)
    items += [dict(items[0], external_id="again")]  # an exact duplicate: counted once
    items += [dict(items[1], external_id="anon", account=None)]  # no account: volume, not accounts
    services.items_ingest(source=source, items=items)
    ids = list(FeedbackItem.objects.values_list("id", flat=True))
    services.items_process(item_ids=ids, recluster=True)
    theme_ids = list(Theme.objects.values_list("id", flat=True))
    assert len(theme_ids) == 2 and FeedbackItem.objects.filter(duplicate_status="exact").count() == 1
    rows: dict = {}
    for theme_id, created_at, account_id, arr, sentiment in FeedbackItem.objects.filter(
        COUNTED, theme_id__in=theme_ids
    ).values_list("theme_id", "created_at", "account_id", "account__arr", "sentiment"):
        rows.setdefault(theme_id, []).append((signals.week_start(created_at), account_id, arr, sentiment))
    expected = {theme_id: signals.aggregate(theme_rows) for theme_id, theme_rows in rows.items()}
    got = _theme_weeks(theme_ids)
    assert {t: sorted(w) for t, w in got.items()} == {t: sorted(w) for t, w in expected.items()}
    for theme_id, weeks in expected.items():
        for week, w in weeks.items():
            g = got[theme_id][week]
            assert (g.volume, g.unique_accounts, g.arr_demand) == (w.volume, w.unique_accounts, w.arr_demand)
            assert g.mean_sentiment == pytest.approx(w.mean_sentiment, abs=1e-4)
