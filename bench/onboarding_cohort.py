"""Cohort view for 300 people × 34 dated tasks (10,200 rows): the one-query selector
against the per-person loop it replaces (4 queries per person) as the baseline.

Builds its data inside a transaction that is rolled back, so the database is unchanged.
"""

from __future__ import annotations

import datetime as dt
import os
import statistics
import time

from bench.common import setup_django

PEOPLE = 300
TASKS = 34
TARGET_MS = 250.0


def _timed(fn, repeat: int = 5) -> float:
    runs = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        runs.append((time.perf_counter() - started) * 1000)
    return statistics.median(runs)


def main() -> dict:
    setup_django()
    from django.db import connection, transaction
    from django.db.models import Max
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from onboarding import selectors
    from onboarding.models import Enrollment, EnrollmentTask, Module, Task, Track
    from portal.models import AuditEntry, Role, User

    today = timezone.localdate()
    result: dict = {}
    with transaction.atomic():
        ops = User.objects.create(username="bench-onboarding-ops", role=Role.OPS_LEAD, is_staff=True)
        track = Track.objects.create(title="Bench track", slug="bench-onboarding-track", status="published", version=1)
        module = Module.objects.create(track=track, order=1, title="Bench module")
        tasks = Task.objects.bulk_create(
            Task(track=track, module=module, order=i, title=f"Task {i}", due_offset_days=i * 3) for i in range(TASKS)
        )
        users = User.objects.bulk_create(
            User(username=f"bench-onboarding-{i}", role=Role.PM, password="!") for i in range(PEOPLE)
        )
        enrollments = Enrollment.objects.bulk_create(
            Enrollment(user=u, track=track, start_on=today - dt.timedelta(days=i % 100)) for i, u in enumerate(users)
        )
        now = timezone.now()
        EnrollmentTask.objects.bulk_create(
            EnrollmentTask(
                enrollment=e,
                task=t,
                due_on=e.start_on + dt.timedelta(days=t.due_offset_days),
                completed_at=now if (t.order + e.pk) % 3 else None,
            )
            for e in enrollments
            for t in tasks
        )

        def fast():
            return selectors.cohort_rows(user=ops, track=track)

        def naive():
            rows = []
            for e in Enrollment.objects.filter(track=track).select_related("user", "track"):
                items = EnrollmentTask.objects.filter(enrollment=e, task__active=True)
                required = items.filter(task__required=True)
                done = required.filter(completed_at__isnull=False).count()
                overdue = items.filter(completed_at__isnull=True, due_on__lt=today).count()
                last = items.aggregate(m=Max("completed_at"))["m"]
                audit = AuditEntry.objects.filter(actor=e.user).order_by("-at").first()
                rows.append((e, done / max(1, required.count()), overdue, last, audit))
            return rows

        with CaptureQueriesContext(connection) as fast_q:
            rows = fast()
        with CaptureQueriesContext(connection) as naive_q:
            naive()
        fast_ms, naive_ms = _timed(fast), _timed(naive, repeat=2)
        enrollment = enrollments[0]
        today_ms = _timed(lambda: selectors.today_for(enrollment))
        assert len(rows) == PEOPLE
        transaction.set_rollback(True)

    load = os.getloadavg()[0]
    print(f"== onboarding: cohort view, {PEOPLE} people x {TASKS} tasks (load {load:.1f}, {os.cpu_count()} CPUs) ==")
    print(f"cohort_rows (selector):      {fast_ms:8.1f} ms median, {len(fast_q.captured_queries)} queries")
    print(f"per-person loop (baseline):  {naive_ms:8.1f} ms median, {len(naive_q.captured_queries)} queries")
    print(f"Today view for one person:   {today_ms:8.1f} ms median")
    ratio = naive_ms / fast_ms if fast_ms else 0
    verdict = "MEETS TARGET" if fast_ms <= TARGET_MS else "MISSES TARGET"
    print(f"cohort view is {ratio:.1f}x faster than the baseline; target <= {TARGET_MS:.0f} ms: {verdict}")
    result.update(cohort_ms=fast_ms, baseline_ms=naive_ms, today_ms=today_ms, queries=len(fast_q.captured_queries))
    return result


if __name__ == "__main__":
    main()
