"""Research background work: thin, idempotent, ids in."""

from __future__ import annotations

from celery import shared_task

from portal.celery import schedule


@shared_task(name="research.participant_stats_refresh")
def participant_stats_refresh(participant_ids: list[int] | None = None) -> int:
    """Re-derive the eligibility columns from the contact log and consents. Services keep them
    in step as they write; this nightly pass repairs anything edited outside them (SQL, admin
    bulk actions). Safe to run any time: it only rewrites rows whose values differ."""
    from research import services

    return services.participant_stats_refresh(participant_ids=participant_ids)


schedule("research-participant-stats-nightly", "research.participant_stats_refresh", 24 * 3600)
