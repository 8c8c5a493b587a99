"""Shared fixtures: users per role, products, API clients, a real Celery worker."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from tests.factories import ProductFactory, UserFactory


@pytest.fixture
def product(db):
    return ProductFactory()


@pytest.fixture
def other_product(db):
    return ProductFactory()


@pytest.fixture
def pm(db, product):
    user = UserFactory(role="pm")
    product.members.add(user)
    return user


@pytest.fixture
def ops_lead(db):
    return UserFactory(role="ops_lead")


@pytest.fixture
def researcher(db):
    return UserFactory(role="researcher")


@pytest.fixture
def viewer(db):
    return UserFactory(role="viewer")


@pytest.fixture
def admin_user(db):
    return UserFactory(role="ops_lead", is_superuser=True, is_staff=True)


@pytest.fixture
def api_client():
    return APIClient()


@pytest.fixture
def pm_client(client, pm):
    client.force_login(pm)
    return client


@pytest.fixture
def celery_worker_thread(transactional_db):
    """A real Celery worker (threads pool) consuming from the real Redis broker.

    Tests that use it must be transactional so the worker's own DB connection sees the
    rows the test committed.
    """
    from celery.contrib.testing.worker import start_worker

    from portal.celery import app

    with start_worker(
        app, pool="threads", concurrency=2, perform_ping_check=False, shutdown_timeout=10, loglevel="WARNING"
    ) as worker:
        yield worker
