import datetime
import time

import pytest
from django.utils import timezone

from portal.models import Notification
from tests.factories import ProductFactory, UserFactory
from tooling import services
from tooling.models import ChecklistTemplateItem
from tooling.tasks import send_launch_reminders


@pytest.mark.django_db(transaction=True)
def test_worker_sends_launch_reminders_once(celery_worker_thread):
    owner = UserFactory(role="pm")
    product = ProductFactory()
    ChecklistTemplateItem.objects.create(tier="T2", title="Legal review", owner_role="Legal", offset_days=-14)
    ChecklistTemplateItem.objects.create(
        tier="T2", title="Blog", owner_role="Marketing", offset_days=-14, required=False
    )
    today = timezone.localdate()
    services.launch_create(
        product=product, feature="Wallets", tier="T2", launch_date=today + datetime.timedelta(days=5), owner=owner
    )
    launched = services.launch_create(
        product=product, feature="Dark mode", tier="T2", launch_date=today - datetime.timedelta(days=8), owner=owner
    )
    services.launch_set_status(launch=launched, status="launched", by=owner)
    send_launch_reminders.delay()
    deadline = time.monotonic() + 20
    while Notification.objects.filter(user=owner).count() < 2 and time.monotonic() < deadline:
        time.sleep(0.2)
    kinds = sorted(Notification.objects.filter(user=owner).values_list("kind", flat=True))
    # Wallets: "Legal review" is overdue (T-14 was 9 days ago); Dark mode: 1-day and 1-week follow-ups are due
    # (Dark mode's own Legal review is not nagged: it has launched).
    assert kinds == ["launch.follow_up", "launch.follow_up", "launch.overdue"]
    assert services.launch_reminders_send() == 0  # idempotent: nothing new the second time
