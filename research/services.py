"""Research writes: verbs with keyword-only arguments, atomic, validated, audited where it matters."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import Count
from django.utils import timezone
from django.utils.text import slugify

from portal.models import Product, User
from portal.permissions import products_editable_by
from portal.services import audit_record
from research import access, csv_import, eligibility
from research.models import (
    STUDY_FLOW,
    ConsentRecord,
    ContactKind,
    ContactLog,
    EvidenceKind,
    Highlight,
    Incentive,
    IncentiveStatus,
    Insight,
    InsightEvidence,
    InsightStatus,
    InsightView,
    Participant,
    Session,
    SessionStatus,
    Study,
    StudyStatus,
    Tag,
    pseudonym_for,
)

# ---------------------------------------------------------------- participants

PANEL_CONSENT_SCOPE = "research"  # research.eligibility reads it from the row
NO_EXPIRY = "9999-12-31T00:00:00Z"


def participant_stats_refresh(*, participant_ids=None) -> int:
    """Recompute last_contacted_at and consent_valid_until from the contact log and consents
    (all participants with participant_ids None). Every write path to those tables calls it."""
    params: dict[str, Any] = {"scope": PANEL_CONSENT_SCOPE, "no_expiry": NO_EXPIRY}
    only = ""
    if participant_ids is not None:
        params["ids"] = list(participant_ids)
        if not params["ids"]:
            return 0
        only = "AND participant_id = ANY(%(ids)s)"
    sql = f"""
        WITH c AS (
            SELECT participant_id, MAX(at) AS last FROM research_contactlog WHERE TRUE {only} GROUP BY participant_id
        ),
        r AS (
            SELECT participant_id, MAX(COALESCE(expires_at, %(no_expiry)s::timestamptz)) AS until
            FROM research_consentrecord
            WHERE scope = %(scope)s AND granted AND withdrawn_at IS NULL {only}
            GROUP BY participant_id
        )
        UPDATE research_participant p SET last_contacted_at = c.last, consent_valid_until = r.until
        FROM research_participant p2
        LEFT JOIN c ON c.participant_id = p2.id
        LEFT JOIN r ON r.participant_id = p2.id
        WHERE p.id = p2.id {only.replace("participant_id", "p.id")}
          AND (p.last_contacted_at IS DISTINCT FROM c.last OR p.consent_valid_until IS DISTINCT FROM r.until)
    """  # noqa: S608 - `only` is a constant fragment; values are parameters
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount


def email_fingerprint(email: str) -> str:
    return hashlib.sha256(email.strip().lower().encode()).hexdigest()


@dataclass
class ImportResult:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: list[tuple[int, str]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "rejected": [{"row": row, "reason": reason} for row, reason in self.rejected],
        }


PROFILE_FIELDS = ["name", "company", "role", "country", "timezone", "opted_out"]


@transaction.atomic
def participants_import(
    *,
    text: str,
    by: User,
    mapping: dict[str, str] | None = None,
    attribute_columns: list[str] | None = None,
    source: str = "csv import",
) -> ImportResult:
    """Create or update participants from CSV, de-duplicated by email: re-importing the same
    file changes nothing. Erased people are never re-created from an old list."""
    access.require_researcher(by, "import participants")
    parsed = csv_import.parse(text, mapping=mapping, attribute_columns=attribute_columns)
    result = ImportResult(rejected=list(parsed.rejected))
    emails = [row["email"] for _, row in parsed.rows]
    existing = {p.email: p for p in Participant.objects.filter(email__in=emails)}
    erased = set(
        Participant.objects.filter(
            erased_at__isnull=False, erased_summary__email_sha256__in=[email_fingerprint(e) for e in emails]
        ).values_list("erased_summary__email_sha256", flat=True)
    )
    now = timezone.now()
    to_create: list[Participant] = []
    consent_for: list[str] = []
    to_update: list[Participant] = []
    for row_number, row in parsed.rows:
        if email_fingerprint(row["email"]) in erased:
            result.rejected.append((row_number, "this person asked to be erased; they cannot be re-imported"))
            continue
        if row["consent"]:
            consent_for.append(row["email"])
        participant = existing.get(row["email"])
        if participant is None:
            to_create.append(
                Participant(
                    email=row["email"],
                    source=source[:80],
                    attributes=row["attributes"],
                    **{f: row[f] for f in PROFILE_FIELDS},
                )
            )
            continue
        changed = False
        for f in PROFILE_FIELDS:
            # A blank cell never wipes what the panel already knows.
            if row[f] not in ("", None) and getattr(participant, f) != row[f] and not (f == "opted_out" and not row[f]):
                setattr(participant, f, row[f])
                changed = True
        merged = {**participant.attributes, **row["attributes"]}
        if merged != participant.attributes:
            participant.attributes = merged
            changed = True
        if changed:
            to_update.append(participant)
            result.updated += 1
        else:
            result.unchanged += 1
    Participant.objects.bulk_create(to_create, batch_size=1000)
    result.created = len(to_create)
    if to_update:
        Participant.objects.bulk_update(to_update, [*PROFILE_FIELDS, "attributes", "updated_at"], batch_size=1000)
    if consent_for:
        has_valid = set(
            ConsentRecord.objects.filter(
                participant__email__in=consent_for, scope="research", granted=True, withdrawn_at__isnull=True
            ).values_list("participant__email", flat=True)
        )
        ConsentRecord.objects.bulk_create(
            [
                ConsentRecord(participant=p, scope="research", granted=True, granted_at=now)
                for p in Participant.objects.filter(email__in=set(consent_for) - has_valid)
            ]
        )
    if consent_for:
        participant_stats_refresh(
            participant_ids=Participant.objects.filter(email__in=consent_for).values_list("pk", flat=True)
        )
    result.rejected.sort()
    audit_record(
        actor=by,
        action="participant.import",
        target_label=f"{result.created} created, {result.updated} updated, {len(result.rejected)} rejected",
        changes={"created": result.created, "updated": result.updated, "rejected": len(result.rejected)},
    )
    return result


@transaction.atomic
def participant_create(*, by: User, email: str, name: str = "", **fields) -> Participant:
    access.require_researcher(by, "add participants")
    participant = Participant(email=email.strip().lower(), name=name, **fields)
    participant.full_clean()
    participant.save()
    return participant


@transaction.atomic
def consent_record(
    *, participant: Participant, by: User, scope: str = "research", granted: bool = True, expires_at=None
) -> ConsentRecord:
    access.require_researcher(by, "record consent")
    if participant.is_erased:
        raise ValidationError({"participant": "This participant was erased."})
    record = ConsentRecord(
        participant=participant, scope=scope, granted=granted, granted_at=timezone.now(), expires_at=expires_at
    )
    record.full_clean()
    record.save()
    participant_stats_refresh(participant_ids=[participant.pk])
    return record


@transaction.atomic
def consent_withdraw(*, consent: ConsentRecord, by: User) -> ConsentRecord:
    access.require_researcher(by, "record consent")
    if consent.withdrawn_at is None:
        consent.withdrawn_at = timezone.now()
        consent.save(update_fields=["withdrawn_at"])
        participant_stats_refresh(participant_ids=[consent.participant_id])
        audit_record(actor=by, action="participant.consent_withdraw", target=consent.participant)
    return consent


@transaction.atomic
def participant_set_opted_out(*, participant: Participant, opted_out: bool, by: User) -> Participant:
    access.require_researcher(by, "change opt-outs")
    participant.opted_out = opted_out
    participant.save(update_fields=["opted_out", "updated_at"])
    audit_record(actor=by, action="participant.opt_out", target=participant, changes={"opted_out": opted_out})
    return participant


@transaction.atomic
def participant_erase(*, participant: Participant, by: User, reason: str = "") -> Participant:
    """Irreversible: personal fields wiped, contact and consent history replaced by counts.
    Sessions and highlights stay (they belong to studies) under the pseudonym."""
    access.require_researcher(by, "erase participants")
    participant = Participant.objects.select_for_update().get(pk=participant.pk)
    if participant.is_erased:
        raise ValidationError({"participant": "This participant was already erased; erasure cannot be repeated."})
    contacts = dict(participant.contacts.values_list("kind").annotate(n=Count("id")).order_by())
    summary = {
        "email_sha256": email_fingerprint(participant.email) if participant.email else "",
        "contacts": contacts,
        "consents": participant.consents.count(),
        "sessions": participant.sessions.count(),
        "highlights": participant.highlights.count(),
        "erased_by": by.username,
        "reason": reason[:200],
    }
    participant.contacts.all().delete()
    participant.consents.all().delete()
    for f in ["name", "email", "company", "role", "country", "timezone"]:
        setattr(participant, f, "")
    participant.attributes = {}
    participant.opted_out = True
    participant.erased_at = timezone.now()
    participant.last_contacted_at = None
    participant.consent_valid_until = None
    participant.erased_summary = summary
    participant.save()
    audit_record(
        actor=by,
        action="participant.erase",
        target=participant,
        target_label=participant.pseudonym,
        changes={k: v for k, v in summary.items() if k != "email_sha256"},
    )
    return participant


def participant_export(*, participant: Participant, by: User) -> dict[str, Any]:
    """Everything the panel holds about one person (subject access request), as JSON-ready data."""
    access.require_researcher(by, "export participant data")
    data = {
        "pseudonym": participant.pseudonym,
        "exported_at": timezone.now().isoformat(),
        "profile": {
            "name": participant.name,
            "email": participant.email,
            "company": participant.company,
            "role": participant.role,
            "country": participant.country,
            "timezone": participant.timezone,
            "source": participant.source,
            "opted_out": participant.opted_out,
            "attributes": participant.attributes,
            "created_at": participant.created_at.isoformat(),
            "erased_at": participant.erased_at.isoformat() if participant.erased_at else None,
        },
        "consents": [
            {
                "scope": c.scope,
                "granted": c.granted,
                "granted_at": c.granted_at.isoformat(),
                "expires_at": c.expires_at.isoformat() if c.expires_at else None,
                "withdrawn_at": c.withdrawn_at.isoformat() if c.withdrawn_at else None,
            }
            for c in participant.consents.all()
        ],
        "contacts": [
            {"kind": c.kind, "at": c.at.isoformat(), "study": c.study.title if c.study else None}
            for c in participant.contacts.select_related("study")
        ],
        "sessions": [
            {
                "study": s.study.title,
                "scheduled_at": s.scheduled_at.isoformat(),
                "status": s.status,
                "incentive": (
                    {"amount": str(s.incentive.amount), "currency": s.incentive.currency, "status": s.incentive.status}
                    if hasattr(s, "incentive")
                    else None
                ),
            }
            for s in participant.sessions.select_related("study", "incentive")
        ],
        "highlights": [
            {"excerpt": h.excerpt, "study": h.study.title} for h in participant.highlights.select_related("study")
        ],
        "history_counts": participant.erased_summary or None,
    }
    audit_record(actor=by, action="participant.export", target=participant, target_label=participant.pseudonym)
    return data


# ---------------------------------------------------------------- studies


def _products(products) -> list[Product]:
    products = list(products or [])
    if not products:
        raise ValidationError({"products": "Pick at least one product the study informs."})
    return products


@transaction.atomic
def study_create(
    *,
    title: str,
    products,
    by: User,
    method: str = "interview",
    research_questions: str = "",
    team=(),
    screener=None,
    eligibility_rule=None,
    target_sessions: int = 8,
) -> Study:
    access.require_writer(by)
    products = _products(products)
    if not (by.is_researcher or by.is_ops_lead):
        editable = set(products_editable_by(by).values_list("pk", flat=True))
        outside = [p.name for p in products if p.pk not in editable]
        if outside:
            raise ValidationError({"products": f"You are not on the team of {', '.join(outside)}."})
    study = Study(
        title=title.strip(),
        method=method,
        research_questions=research_questions,
        owner=by,
        screener=eligibility.validate_screener(screener),
        eligibility_rule=eligibility_rule,
        target_sessions=target_sessions,
        status_changed_at=timezone.now(),
    )
    study.full_clean(exclude=["search_vector"])
    study.save()
    study.products.set(products)
    study.team.set(list(team))
    audit_record(actor=by, action="study.create", target=study)
    return study


@transaction.atomic
def study_update(*, study: Study, by: User, **fields) -> Study:
    access.require_manage_study(by, study)
    products = fields.pop("products", None)
    team = fields.pop("team", None)
    if "screener" in fields:
        fields["screener"] = eligibility.validate_screener(fields["screener"])
    for name, value in fields.items():
        if name not in {"title", "method", "research_questions", "screener", "eligibility_rule", "target_sessions"}:
            raise ValidationError({name: "This field cannot be changed here."})
        setattr(study, name, value)
    study.full_clean(exclude=["search_vector"])
    study.save()
    if products is not None:
        study.products.set(_products(products))
    if team is not None:
        study.team.set(list(team))
    return study


@transaction.atomic
def study_set_status(*, study: Study, status: str, by: User) -> Study:
    """Forward one step along planning → … → shared, back one step, or archive from anywhere."""
    access.require_manage_study(by, study)
    if status not in STUDY_FLOW:
        raise ValidationError({"status": f"Unknown status “{status}”; use one of {', '.join(STUDY_FLOW)}."})
    current = STUDY_FLOW.index(study.status)
    target = STUDY_FLOW.index(status)
    if status != StudyStatus.ARCHIVED and abs(target - current) != 1:
        allowed = " or ".join(_neighbours(study))
        raise ValidationError({"status": f"A study moves one step at a time: from {study.status} go to {allowed}."})
    previous = study.status
    study.status = status
    study.status_changed_at = timezone.now()
    study.save(update_fields=["status", "status_changed_at", "updated_at"])
    audit_record(actor=by, action="study.status", target=study, changes={"from": previous, "to": status})
    return study


def _neighbours(study: Study) -> list[str]:
    i = STUDY_FLOW.index(study.status)
    out = [STUDY_FLOW[j] for j in (i + 1, i - 1) if 0 <= j < len(STUDY_FLOW)]
    if StudyStatus.ARCHIVED not in out and study.status != StudyStatus.ARCHIVED:
        out.append(StudyStatus.ARCHIVED)
    return out


@transaction.atomic
def study_create_research_plan(*, study: Study, by: User):
    """Create the study's research plan from tooling's latest published research_plan template."""
    from tooling.services import document_create_from_template

    access.require_manage_study(by, study)
    if study.research_plan_id:
        raise ValidationError({"research_plan": "This study already has a research plan."})
    product = study.products.order_by("pk").first()
    document = document_create_from_template(
        kind="research_plan",
        product=product,
        owner=by,
        title=f"Research plan: {study.title}",
        variables={
            "study": study.title,
            "method": study.get_method_display(),
            "research_questions": study.research_questions,
            "products": ", ".join(p.name for p in study.products.all()),
        },
    )
    study.research_plan = document
    study.research_plan_url = document.get_absolute_url()
    study.save(update_fields=["research_plan", "research_plan_url", "updated_at"])
    audit_record(actor=by, action="study.research_plan", target=study, changes={"document": document.pk})
    return document


@transaction.atomic
def study_invite(*, study: Study, participant_ids: list[int], by: User) -> int:
    """Invite eligible participants (a contact log entry each). Ineligible ids are refused by name."""
    access.require_manage_study(by, study)
    if study.status not in (StudyStatus.RECRUITING, StudyStatus.FIELDWORK):
        raise ValidationError({"study": "Invite participants while the study is recruiting or in fieldwork."})
    try:
        ids = sorted({int(i) for i in participant_ids})
    except (TypeError, ValueError) as exc:
        raise ValidationError({"participants": "Participant ids must be numbers."}) from exc
    if not ids:
        raise ValidationError({"participants": "Pick at least one participant to invite."})
    result = eligibility.evaluate(
        criteria=study.screener, rule=study.eligibility_rule, study_id=study.pk, only_ids=ids, limit=len(ids)
    )
    refused = sorted(set(ids) - set(result.eligible_ids))
    if refused:
        names = ", ".join(pseudonym_for(i) for i in refused[:10])
        raise ValidationError({"participants": f"Not eligible for this study: {names}."})
    now = timezone.now()
    ContactLog.objects.bulk_create(
        [ContactLog(participant_id=i, study=study, kind=ContactKind.INVITED, at=now, by=by) for i in ids]
    )
    participant_stats_refresh(participant_ids=ids)
    return len(ids)


@transaction.atomic
def contact_log(
    *, participant: Participant, kind: str, by: User | None, study: Study | None = None, at=None
) -> ContactLog:
    entry = ContactLog(participant=participant, kind=kind, study=study, by=by, at=at or timezone.now())
    entry.full_clean()
    entry.save()
    participant_stats_refresh(participant_ids=[participant.pk])
    return entry


@transaction.atomic
def session_schedule(
    *, study: Study, participant: Participant, scheduled_at: datetime, by: User, duration_minutes: int = 45
) -> Session:
    access.require_manage_study(by, study)
    if participant.is_erased:
        raise ValidationError({"participant": "This participant was erased."})
    if not ContactLog.objects.filter(study=study, participant=participant).exists():
        raise ValidationError({"participant": f"Invite {participant.pseudonym} to this study before scheduling."})
    session = Session(
        study=study,
        participant=participant,
        scheduled_at=scheduled_at,
        duration_minutes=duration_minutes,
        moderator=by,
    )
    session.full_clean(exclude=["search_vector"])
    session.save()
    contact_log(participant=participant, kind=ContactKind.SCHEDULED, by=by, study=study)
    return session


_OUTCOME_CONTACT = {SessionStatus.COMPLETED: ContactKind.ATTENDED, SessionStatus.NO_SHOW: ContactKind.NO_SHOW}


@transaction.atomic
def session_set_status(*, session: Session, status: str, by: User) -> Session:
    access.require_manage_study(by, session.study)
    if status not in SessionStatus.values:
        raise ValidationError({"status": f"Unknown session status “{status}”."})
    if session.status == status:
        return session
    if session.status != SessionStatus.SCHEDULED:
        raise ValidationError({"status": f"This session is already {session.get_status_display().lower()}."})
    session.status = status
    session.save(update_fields=["status", "updated_at"])
    kind = _OUTCOME_CONTACT.get(status)
    if kind:
        contact_log(participant=session.participant, kind=kind, by=by, study=session.study, at=session.scheduled_at)
    return session


@transaction.atomic
def session_update_notes(*, session: Session, notes: str, by: User) -> Session:
    access.require_manage_study(by, session.study)
    if len(notes) > 200_000:
        raise ValidationError({"notes": "Notes are limited to 200,000 characters."})
    session.notes = notes
    session.save(update_fields=["notes", "updated_at"])
    return session


@transaction.atomic
def incentive_set(*, session: Session, amount, currency: str, by: User) -> Incentive:
    access.require_manage_study(by, session.study)
    try:
        value = Decimal(str(amount))
    except (InvalidOperation, ValueError) as exc:
        raise ValidationError({"amount": f"“{amount}” is not an amount."}) from exc
    incentive, _ = Incentive.objects.get_or_create(session=session, defaults={"amount": value, "currency": "USD"})
    if incentive.status == IncentiveStatus.PAID:
        raise ValidationError({"amount": "This incentive was already paid; it cannot change."})
    incentive.amount = value
    incentive.currency = (currency or "USD").upper()
    incentive.full_clean()
    incentive.save()
    return incentive


@transaction.atomic
def incentive_mark_paid(*, incentive: Incentive, by: User) -> Incentive:
    access.require_manage_study(by, incentive.session.study)
    if incentive.status != IncentiveStatus.PAID:
        incentive.status = IncentiveStatus.PAID
        incentive.paid_at = timezone.now()
        incentive.save(update_fields=["status", "paid_at"])
        audit_record(
            actor=by,
            action="incentive.pay",
            target=incentive.session,
            changes={"amount": str(incentive.amount), "currency": incentive.currency},
        )
    return incentive


# ---------------------------------------------------------------- tags, highlights


def tags_resolve(*, names: list[str], study: Study | None) -> list[Tag]:
    """Global taxonomy tags by slug; unknown names become study-local tags."""
    tags = []
    for raw in names:
        name = raw.strip()[:80]
        slug = slugify(name)[:80]
        if not slug:
            continue
        tag = Tag.objects.filter(slug=slug, study__isnull=True).first()
        if tag is None and study is not None:
            tag, _ = Tag.objects.get_or_create(study=study, slug=slug, defaults={"name": name})
        if tag is None:
            raise ValidationError({"tags": f"“{name}” is not in the global taxonomy."})
        tags.append(tag)
    return tags


def _norm(text: str) -> str:
    # Compare text as read (selected from the rendered notes): markdown marks and spacing aside.
    return re.sub(r"\s+", " ", re.sub(r"[*_`>#\[\]]", "", text)).strip().lower()


@transaction.atomic
def highlight_create(*, session: Session, excerpt: str, by: User, tags: list[str] | None = None) -> Highlight:
    access.require_manage_study(by, session.study)
    excerpt = excerpt.strip()
    if not excerpt:
        raise ValidationError({"excerpt": "Select or paste the excerpt to highlight."})
    if _norm(excerpt) not in _norm(session.notes):
        raise ValidationError({"excerpt": "A highlight must be an excerpt of this session's notes."})
    highlight = Highlight(
        session=session,
        study=session.study,
        participant=session.participant,
        excerpt=excerpt,
        created_by=by,
        created_at=timezone.now(),
    )
    highlight.full_clean(exclude=["search_vector"])
    highlight.save()
    highlight.tags.set(tags_resolve(names=tags or [], study=session.study))
    return highlight


FEEDBACK_SOURCE_NAME = "Research interviews"


@transaction.atomic
def highlight_send_to_feedback(*, highlight: Highlight, by: User) -> int:
    """Send a highlight to feedback as one feedback item, so research reaches the signal
    dashboards and the roadmap. Pseudonymous: no name or email leaves research. Idempotent
    on the highlight (external_id), so sending twice updates the same item."""
    from feedback.models import FeedbackSource
    from feedback.services import items_ingest, source_create

    access.require_manage_study(by, highlight.study)
    source = FeedbackSource.objects.filter(name=FEEDBACK_SOURCE_NAME, kind="interview").first()
    if source is None:
        source = source_create(name=FEEDBACK_SOURCE_NAME, kind="interview", by=by)
    product = highlight.study.products.order_by("pk").first()
    tags = ", ".join(t.name for t in highlight.tags.all())
    text = highlight.excerpt + (f"\n\n(Research: {highlight.study.title}; tags: {tags})" if tags else "")
    item = {
        "external_id": f"research-highlight-{highlight.pk}",
        "text": text,
        "product": product.slug if product else None,
        "created_at": highlight.created_at.isoformat(),
    }
    outcome = items_ingest(source=source, items=[item], by=by)[0]
    if outcome["status"] == "rejected":
        reasons = "; ".join(f"{k}: {' '.join(v)}" for k, v in (outcome.get("errors") or {}).items())
        raise ValidationError({"highlight": f"Feedback refused the highlight: {reasons}"})
    highlight.feedback_ref = str(outcome["id"])
    highlight.save(update_fields=["feedback_ref"])
    return outcome["id"]


# ---------------------------------------------------------------- insights


@transaction.atomic
def insight_create(
    *,
    statement: str,
    products,
    by: User,
    details: str = "",
    study: Study | None = None,
    tags: list[str] | None = None,
    highlights=(),
    confidence: str = "medium",
) -> Insight:
    access.require_writer(by)
    if study is not None:
        access.require_manage_study(by, study)
    insight = Insight(statement=statement.strip(), details=details, study=study, confidence=confidence, created_by=by)
    insight.full_clean(exclude=["search_vector"])
    insight.save()
    insight.products.set(_products(products))
    insight.tags.set(tags_resolve(names=tags or [], study=study))
    insight.highlights.set(list(highlights))
    return insight


def _require_insight_edit(user, insight: Insight) -> None:
    if insight.study_id:
        access.require_manage_study(user, insight.study)
    else:
        access.require_writer(user)
        if insight.created_by_id != user.id and not (user.is_researcher or user.is_ops_lead):
            raise ValidationError({"insight": "Only its author or a researcher can change this insight."})


@transaction.atomic
def insight_add_evidence(
    *, insight: Insight, kind: str, by: User, label: str, ref: str = "", url: str = "", note: str = ""
) -> InsightEvidence:
    _require_insight_edit(by, insight)
    if kind not in EvidenceKind.values:
        raise ValidationError({"kind": f"Unknown evidence kind “{kind}”; use one of {', '.join(EvidenceKind.values)}."})
    evidence = InsightEvidence(insight=insight, kind=kind, ref=ref, label=label, url=url, note=note)
    evidence.full_clean()
    evidence.save()
    return evidence


@transaction.atomic
def insight_link_highlights(*, insight: Insight, highlights, by: User) -> Insight:
    _require_insight_edit(by, insight)
    insight.highlights.add(*highlights)
    return insight


@transaction.atomic
def insight_publish(*, insight: Insight, by: User) -> Insight:
    _require_insight_edit(by, insight)
    if insight.status == InsightStatus.PUBLISHED:
        return insight
    has_evidence = insight.highlights.exists() or insight.evidence.exists()
    if not has_evidence:
        raise ValidationError({"evidence": "Link at least one highlight or other evidence before publishing."})
    insight.status = InsightStatus.PUBLISHED
    insight.published_at = timezone.now()
    insight.save(update_fields=["status", "published_at", "updated_at"])
    audit_record(actor=by, action="insight.publish", target=insight)
    return insight


@transaction.atomic
def insight_archive(*, insight: Insight, by: User) -> Insight:
    _require_insight_edit(by, insight)
    insight.status = InsightStatus.ARCHIVED
    insight.save(update_fields=["status", "updated_at"])
    return insight


def insight_record_view(*, insight: Insight, user: User) -> bool:
    """Audit `insight.view` the first time a person opens an insight; later views are not audited."""
    if not user.is_authenticated:
        return False
    try:
        with transaction.atomic():
            InsightView.objects.create(insight=insight, user=user)
            audit_record(actor=user, action="insight.view", target=insight)
    except IntegrityError:
        return False
    return True


def cooldown_ends(participant_last_contact: datetime | None, days: int) -> datetime | None:
    return participant_last_contact + timedelta(days=days) if participant_last_contact else None
