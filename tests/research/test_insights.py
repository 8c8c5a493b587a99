import pytest
from django.core.exceptions import ValidationError

from portal.models import AuditEntry
from research import search, selectors, services
from research.models import Tag
from tests.factories import ProductFactory, UserFactory
from tests.research.factories import HighlightFactory, InsightFactory, SessionFactory, StudyFactory


def test_publish_needs_evidence_and_is_audited(researcher, product):
    study = StudyFactory(owner=researcher, products=[product])
    insight = services.insight_create(
        statement="Fees surprise shoppers", products=[product], study=study, by=researcher
    )
    with pytest.raises(ValidationError) as exc:
        services.insight_publish(insight=insight, by=researcher)
    assert exc.value.message_dict == {"evidence": ["Link at least one highlight or other evidence before publishing."]}
    services.insight_add_evidence(
        insight=insight, kind="feedback_theme", label="Theme: shipping costs", ref="feedback.Theme:3", by=researcher
    )
    services.insight_publish(insight=insight, by=researcher)
    assert insight.status == "published" and insight.published_at
    entry = AuditEntry.objects.get(action="insight.publish")
    assert (entry.actor, entry.target_id) == (researcher, str(insight.pk))


@pytest.mark.parametrize(
    ("fields", "errors"),
    [
        (
            {"kind": "rumour", "label": "x", "ref": "y"},
            {"kind": ["Unknown evidence kind “rumour”; use one of feedback_theme, experiment, link."]},
        ),
        ({"kind": "link", "label": "x"}, {"ref": ["Give a reference (e.g. feedback.Theme:12) or a URL."]}),
        (
            {"kind": "link", "label": "x", "url": "javascript:alert(1)"},
            {"url": ["Use a portal path (/…) or an https:// link."]},
        ),
    ],
)
def test_bad_evidence_is_refused(researcher, fields, errors):
    insight = InsightFactory(created_by=researcher, status="draft")
    with pytest.raises(ValidationError) as exc:
        services.insight_add_evidence(insight=insight, by=researcher, **fields)
    assert exc.value.message_dict == errors


def test_insight_view_is_audited_once_per_user(client, db):
    insight = InsightFactory()
    reader, other = UserFactory(role="pm"), UserFactory(role="viewer")
    client.force_login(reader)
    for _ in range(3):
        assert client.get(f"/research/insights/{insight.pk}/").status_code == 200
    client.force_login(other)
    client.get(f"/research/insights/{insight.pk}/")
    views = AuditEntry.objects.filter(action="insight.view", target_id=str(insight.pk))
    assert sorted(v.actor_label for v in views) == sorted([reader.username, other.username])


def test_drafts_are_hidden_from_other_pms(client, researcher):
    draft = InsightFactory(created_by=researcher, status="draft", published_at=None)
    client.force_login(UserFactory(role="pm"))
    assert client.get(f"/research/insights/{draft.pk}/").status_code == 404
    assert client.get(f"/api/v1/research/insights/{draft.pk}").status_code == 404
    assert draft.statement not in client.get("/research/insights/").content.decode()


def test_related_insights_come_from_other_products(db):
    checkout, billing, mobile = ProductFactory(), ProductFactory(), ProductFactory()
    trust = Tag.objects.create(name="Trust", slug="trust")
    mine = InsightFactory(statement="Hidden fees erode trust at checkout", products=[checkout])
    mine.tags.add(trust)
    same_product = InsightFactory(statement="Hidden fees erode trust on cart page", products=[checkout])
    same_product.tags.add(trust)
    tagged = InsightFactory(statement="Invoices need purchase order numbers", products=[billing])
    tagged.tags.add(trust)
    worded = InsightFactory(statement="Surprise fees make merchants churn", products=[mobile])
    InsightFactory(statement="Dark mode is popular", products=[mobile])
    InsightFactory(statement="Hidden fees draft", products=[billing], status="draft")
    related = selectors.related_insights(insight=mine)
    assert related == [tagged, worded]


def test_search_is_ranked_filtered_and_open_to_every_pm(client, db, product, other_product):
    study = StudyFactory(products=[product], method="usability_test")
    session = SessionFactory(study=study, notes="Delivery fees were hidden until the last step. Delivery again.")
    h = HighlightFactory(session=session, excerpt="Delivery fees were hidden until the last step")
    h.tags.add(Tag.objects.create(name="Pricing", slug="pricing"))
    strong = InsightFactory(statement="Delivery fees shown late cause abandonment", products=[product])
    weak = InsightFactory(
        statement="Shoppers compare prices", details="Sometimes delivery matters.", products=[other_product]
    )
    pm = UserFactory(role="pm")
    hits = search.search("delivery fees", user=pm)
    kinds = {hit.kind for hit in hits}
    assert kinds == {"Insight", "Highlight", "Session notes"}
    assert hits[0].title == strong.statement
    assert weak.statement not in [x.title for x in hits]  # "fees" is required (websearch AND)
    only_pricing = search.search("delivery", user=pm, filters=search.Filters(tag="pricing"))
    assert {x.kind for x in only_pricing} == {"Highlight", "Session notes"}
    other = search.search("delivery", user=pm, filters=search.Filters(product=other_product.slug))
    assert [x.title for x in other] == [weak.statement]
    usability = search.search("delivery", user=pm, filters=search.Filters(method="interview"))
    assert usability == []
    client.force_login(pm)
    body = client.get("/research/search/?q=delivery+fees").content.decode()
    assert "<mark>Delivery</mark> <mark>fees</mark> were hidden" in body


def test_global_search_lists_research_results(client, db):
    insight = InsightFactory(statement="Checkout speed matters on mobile")
    client.force_login(UserFactory(role="pm"))
    body = client.get("/search/?q=checkout+speed").content.decode()
    assert insight.statement in body
    assert "Research insights" in body


def test_insight_list_page_and_api_query_counts(client, db, django_assert_max_num_queries):
    for _ in range(12):
        i = InsightFactory()
        i.highlights.add(HighlightFactory())
    client.force_login(UserFactory(role="pm"))
    with django_assert_max_num_queries(10):
        assert client.get("/research/insights/").status_code == 200
    with django_assert_max_num_queries(8):
        data = client.get("/api/v1/research/insights").json()
    assert data["count"] == 12
    with django_assert_max_num_queries(8):
        assert client.get("/api/v1/research/highlights").json()["count"] == 12


def test_publish_flow_through_pages(client, researcher, product):
    study = StudyFactory(owner=researcher, products=[product])
    h = HighlightFactory(session=SessionFactory(study=study))
    client.force_login(researcher)
    response = client.post(
        f"/research/insights/new/?study={study.pk}",
        {
            "statement": "Fees shown late hurt",
            "products": [product.pk],
            "confidence": "high",
            "tags": "pricing",
            "highlights": str(h.pk),
            "study": study.pk,
        },
    )
    assert response.status_code == 302
    insight = study.insights.get()
    assert list(insight.highlights.all()) == [h]
    client.post(f"/research/insights/{insight.pk}/publish")
    insight.refresh_from_db()
    assert insight.status == "published"
