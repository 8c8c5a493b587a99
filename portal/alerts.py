"""Portal-wide alert sweeps filling the notification gaps the apps leave:

- `experiment.guardrail`: a running experiment's latest result shows a guardrail regression
  (the experiments app alerts on SRM itself);
- `standards.stale`: a published template not updated in STALE_DAYS, to its owner
  (onboarding notifies track owners itself).

Both run from the beat task `portal.alerts_sweep`; dedupe keys make a rerun send nothing new.
"""

from __future__ import annotations

import hashlib
from datetime import timedelta

from django.db.models import OuterRef, Subquery
from django.utils import timezone

from portal.home import model
from portal.services import notify

STALE_DAYS = 180


def guardrail_alerts_send() -> int:
    Experiment, Snapshot = model("experiments.Experiment"), model("experiments.ResultSnapshot")
    if Experiment is None or Snapshot is None:
        return 0
    latest = Snapshot.objects.filter(experiment=OuterRef("pk"), status="ready").order_by("-computed_at", "-pk")
    sent = 0
    rows = (
        Experiment.objects.filter(status="running")
        .select_related("owner", "product")
        .annotate(latest_health=Subquery(latest.values("health")[:1]))
    )
    for experiment in rows:
        for item in experiment.latest_health or []:
            if not isinstance(item, dict) or item.get("code") != "guardrail":
                continue
            message = str(item.get("message", "Guardrail regression"))
            digest = hashlib.sha1(message.encode(), usedforsecurity=False).hexdigest()[:12]
            note = notify(
                user=experiment.owner,
                kind="experiment.guardrail",
                title=f"Guardrail regression in {experiment.name}",
                body=f"{message}\n\nProduct: {experiment.product.name}. Consider stopping the experiment.",
                url=experiment.get_absolute_url(),
                dedupe_key=f"experiment.guardrail:{experiment.pk}:{digest}",
            )
            sent += note is not None
    return sent


def stale_template_notices_send(*, now=None) -> int:
    Template = model("tooling.Template")
    if Template is None:
        return 0
    now = now or timezone.now()
    sent = 0
    stale = Template.objects.filter(
        status="published", updated_at__lt=now - timedelta(days=STALE_DAYS), owner__isnull=False
    ).select_related("owner")
    for template in stale:
        note = notify(
            user=template.owner,
            kind="standards.stale",
            title=f"Template “{template.name}” has not been updated in {STALE_DAYS // 30} months",
            body="Check it still reflects how teams work; PMs see its age on the template page.",
            url=template.get_absolute_url(),
            dedupe_key=f"standards.stale:template:{template.pk}:{now:%Y-%m}",
        )
        sent += note is not None
    return sent


def alerts_sweep() -> dict[str, int]:
    return {"guardrail": guardrail_alerts_send(), "stale_templates": stale_template_notices_send()}
