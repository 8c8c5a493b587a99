"""Schemathesis over the whole OpenAPI schema served at /api/schema/.

Every operation gets a bounded number of generated requests (positive and negative
data), sent through the WSGI app as an authenticated ops lead (the role that reaches
the most code) with a write-scope token. Checks: never a 5xx, and every response's
content type and body match what the schema declares for its status code.
The whole test is bounded to FUZZ_BUDGET_S seconds of generation.
"""

from __future__ import annotations

import contextlib
import time
import warnings

import pytest
import schemathesis
from django.core.wsgi import get_wsgi_application
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import content_type_conformance, response_schema_conformance

from portal import tokens
from tests.factories import ProductFactory, UserFactory

EXAMPLES_PER_OPERATION = 5
FUZZ_BUDGET_S = 150
CHECKS = [not_a_server_error, content_type_conformance, response_schema_conformance]
# Schema defects found by this test and reported to the owning app; until fixed, these
# operations are still fuzzed for server errors, but not for schema conformance.
KNOWN_SCHEMA_DEFECTS = {
    "GET /api/v1/feedback/items": "paginated {count, results} body declared as a bare array (feedback/api.py)",
}


@pytest.fixture
def api_schema(transactional_db):
    """Transactional: the WSGI transport closes the DB connection after each request
    (request_finished), which would end a wrapping test transaction."""
    ops = UserFactory(role="ops_lead", username="fuzz-ops")
    ProductFactory(slug="checkout", name="Checkout")
    client = Client()
    client.force_login(ops)
    response = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    schema = schemathesis.openapi.from_dict(response.json())
    schema.app = get_wsgi_application()
    secret = tokens.api_token_create(user=ops, name="fuzz")[1]
    return schema, {"Authorization": f"Bearer {secret}"}


def _fuzz(operation, auth: dict, failures: list[str]) -> None:
    checks = [not_a_server_error] if operation.label in KNOWN_SCHEMA_DEFECTS else CHECKS

    @settings(
        max_examples=EXAMPLES_PER_OPERATION,
        deadline=None,
        database=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
    )
    @given(
        case=st.one_of(
            operation.as_strategy(generation_mode=GenerationMode.POSITIVE),
            operation.as_strategy(generation_mode=GenerationMode.NEGATIVE),
        )
    )
    def run(case):
        case.headers = {**(case.headers or {}), **auth}
        response = case.call()
        try:
            case.validate_response(response, checks=checks)
        except Exception as exc:
            failures.append(f"{operation.label}: {type(exc).__name__}: {str(exc).strip()[:600]}")
            raise

    # recorded in `failures`; hypothesis stops at the first failing example of an operation
    with contextlib.suppress(Exception, BaseExceptionGroup):
        run()


def test_every_operation_survives_generated_requests(api_schema):
    schema, auth = api_schema
    failures: list[str] = []
    started = time.monotonic()
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 10, "the schema lost its operations"
    for operation in operations:
        if time.monotonic() - started > FUZZ_BUDGET_S:
            rest = operations[operations.index(operation) :]
            warnings.warn(
                f"fuzz budget of {FUZZ_BUDGET_S}s spent; not fuzzed this run: {[o.label for o in rest]}", stacklevel=1
            )
            break
        _fuzz(operation, auth, failures)
    assert failures == [], "\n".join(failures)
