import pytest
from django.core.exceptions import ValidationError

from tooling import services

pytestmark = pytest.mark.django_db


def test_roadmap_item_computes_rice_score(product, pm):
    item = services.roadmap_item_create(
        product=product, title="Saved cards", by=pm, reach=4000, impact=2, confidence=80, effort=4, owner=pm
    )
    assert item.rice_score == 1600.0
    assert item.horizon == "next"


def test_roadmap_item_rejects_bad_quarter(product, pm):
    with pytest.raises(ValidationError) as exc:
        services.roadmap_item_create(product=product, title="X", by=pm, target_quarter="Q3 2026")
    assert exc.value.message_dict["target_quarter"] == ["Write the quarter as YYYY-QN, e.g. 2026-Q3."]
