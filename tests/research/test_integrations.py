"""Research plans come from tooling's templates; highlights go to feedback as feedback items."""

import pytest
from django.core.exceptions import ValidationError

from feedback.models import FeedbackItem
from research import services
from tests.research.factories import HighlightFactory, SessionFactory, StudyFactory
from tests.tooling.factories import published_version


def test_research_plan_is_created_from_the_published_template(client, researcher, product):
    published_version(kind="research_plan")
    study = StudyFactory(owner=researcher, products=[product], title="Wallet diary")
    document = services.study_create_research_plan(study=study, by=researcher)
    study.refresh_from_db()
    assert study.research_plan == document
    assert document.title == "Research plan: Wallet diary"
    assert (document.product, document.owner) == (product, researcher)
    client.force_login(researcher)
    assert document.get_absolute_url() in client.get(f"/research/studies/{study.pk}/").content.decode()
    with pytest.raises(ValidationError) as exc:
        services.study_create_research_plan(study=study, by=researcher)
    assert exc.value.message_dict == {"research_plan": ["This study already has a research plan."]}


def test_research_plan_without_a_template_says_what_to_do(client, researcher):
    study = StudyFactory(owner=researcher)
    client.force_login(researcher)
    client.post(f"/research/studies/{study.pk}/plan")
    body = client.get(f"/research/studies/{study.pk}/").content.decode()
    assert "No published template of kind" in body


def test_highlight_goes_to_feedback_without_personal_data(researcher, product):
    session = SessionFactory(study=StudyFactory(owner=researcher, products=[product]))
    highlight = HighlightFactory(session=session)
    item_id = services.highlight_send_to_feedback(highlight=highlight, by=researcher)
    item = FeedbackItem.objects.get(pk=item_id)
    assert item.text.startswith("The delivery fee surprised me at the end")
    assert item.product == product
    assert session.participant.email not in str(item.raw) and session.participant.name not in str(item.raw)
    highlight.refresh_from_db()
    assert highlight.feedback_ref == str(item_id)
    # Sending again updates the same item (keyed on the highlight).
    assert services.highlight_send_to_feedback(highlight=highlight, by=researcher) == item_id
    assert FeedbackItem.objects.count() == 1
