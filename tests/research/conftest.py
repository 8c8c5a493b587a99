import pytest

from tests.research.factories import EligibilityRuleFactory


@pytest.fixture
def rule(db):
    return EligibilityRuleFactory()
