"""Eligibility of panel participants for a study, evaluated in one SQL statement.

A participant passes the study's screener (criteria on segment attributes), is not erased,
and then each rule of the study's EligibilityRule may exclude them. The candidate list shows
who is eligible and, for everyone else, how many each rule excluded (a participant can fail
several rules; each rule counts them).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.core.exceptions import ValidationError
from django.db import connection
from django.db.models import Q, QuerySet
from django.utils import timezone

from research.models import EligibilityRule, Participant

PANEL_CONSENT_SCOPE = "research"

SCREENER_OPS = {"eq", "neq", "in", "exists"}
# Order is the order shown on the candidate page.
RULE_LABELS = {
    "in_study": "Already in this study",
    "opted_out": "Opted out",
    "cooldown": "Contacted during the cool-down",
    "max_sessions": "Too many sessions in the window",
    "no_show": "No-show limit reached",
    "consent": "No valid consent",
}


@dataclass
class EligibilityResult:
    screened: int = 0  # passed the screener
    eligible: int = 0
    excluded: dict[str, int] = field(default_factory=dict)
    eligible_ids: list[int] = field(default_factory=list)
    rule: EligibilityRule | None = None

    @property
    def excluded_rows(self) -> list[tuple[str, str, int]]:
        return [(key, RULE_LABELS[key], self.excluded.get(key, 0)) for key in RULE_LABELS]


def validate_screener(criteria) -> list[dict]:
    """Normalise and validate screener criteria; raises ValidationError naming the criterion."""
    if criteria in (None, ""):
        return []
    if not isinstance(criteria, list):
        raise ValidationError({"screener": "The screener must be a list of criteria."})
    clean = []
    for i, crit in enumerate(criteria, start=1):
        if not isinstance(crit, dict):
            raise ValidationError({"screener": f"Criterion {i} must be an object with attribute, op and value."})
        attribute = str(crit.get("attribute", "")).strip()
        op = str(crit.get("op", "eq")).strip()
        value = crit.get("value")
        if not attribute:
            raise ValidationError({"screener": f"Criterion {i} has no attribute."})
        if op not in SCREENER_OPS:
            raise ValidationError({"screener": f"Criterion {i}: unknown op “{op}”; use one of eq, neq, in, exists."})
        if op == "in":
            if isinstance(value, str):
                value = [v.strip() for v in value.split(",") if v.strip()]
            if not isinstance(value, list) or not value:
                raise ValidationError({"screener": f"Criterion {i}: “in” needs a non-empty list of values."})
            value = [str(v) for v in value]
        elif op != "exists":
            if value in (None, ""):
                raise ValidationError({"screener": f"Criterion {i}: “{attribute}” needs a value."})
            value = str(value)
        clean.append({"attribute": attribute, "op": op, "value": value})
    return clean


def _criterion_q(crit: dict) -> Q:
    attribute, op, value = crit["attribute"], crit["op"], crit["value"]
    if attribute == "country":
        if op == "exists":
            return ~Q(country="")
        q = Q(country__in=[v.upper() for v in value]) if op == "in" else Q(country=str(value).upper())
        return ~q if op == "neq" else q
    if op == "exists":
        return Q(attributes__has_key=attribute)
    if op == "in":
        q = Q()
        for v in value:
            q |= Q(attributes__contains={attribute: v})
        return q
    q = Q(attributes__contains={attribute: value})
    return ~q if op == "neq" else q


def screened_participants(criteria: list[dict]) -> QuerySet[Participant]:
    qs = Participant.objects.filter(erased_at__isnull=True)
    for crit in criteria:
        qs = qs.filter(_criterion_q(crit))
    return qs


def default_rule() -> EligibilityRule:
    rule = EligibilityRule.objects.filter(is_default=True).first()
    if rule is None:
        # Sensible defaults until research ops configure rules in the admin.
        rule = EligibilityRule(name="Default", is_default=True)
    return rule


# Each rule is a set of participant ids computed from small index ranges (contacts in the
# cool-down, attended / no-show contacts in the window); the base set is then probed against
# those hashed sets, so the cost grows with the panel, not with panel x history.
_SQL = """
WITH flags AS MATERIALIZED (
    SELECT b.id,
           b.id IN (SELECT participant_id FROM research_contactlog WHERE study_id = %(study_id)s) AS in_study,
           (%(exclude_opted_out)s AND b.opted_out) AS opted_out,
           COALESCE(b.last_contacted_at >= %(cooldown_start)s, FALSE) AS cooldown,
           b.id IN (
               SELECT participant_id FROM research_contactlog
               WHERE kind = 'attended' AND at >= %(window_start)s
               GROUP BY participant_id HAVING COUNT(*) >= %(max_sessions)s
           ) AS max_sessions,
           b.id IN (
               SELECT participant_id FROM research_contactlog
               WHERE kind = 'no_show' AND at >= %(window_start)s
               GROUP BY participant_id HAVING COUNT(*) >= %(no_show_limit)s
           ) AS no_show,
           (%(require_consent)s AND {consent}) AS consent
    FROM ({base}) b
)
SELECT COUNT(*),
       COUNT(*) FILTER (WHERE in_study), COUNT(*) FILTER (WHERE opted_out),
       COUNT(*) FILTER (WHERE cooldown), COUNT(*) FILTER (WHERE max_sessions),
       COUNT(*) FILTER (WHERE no_show), COUNT(*) FILTER (WHERE consent),
       COUNT(*) FILTER (WHERE NOT (in_study OR opted_out OR cooldown OR max_sessions OR no_show OR consent)),
       ARRAY(
           SELECT id FROM flags
           WHERE NOT (in_study OR opted_out OR cooldown OR max_sessions OR no_show OR consent)
           ORDER BY (id * 2654435761 + %(seed)s) %% 1000003, id
           LIMIT %(limit)s
       )
FROM flags
"""


# The panel's own consent scope is kept on the participant row; other scopes read the consents.
_CONSENT_COLUMN = "NOT COALESCE(b.consent_valid_until > %(now)s, FALSE)"
_CONSENT_TABLE = """b.id NOT IN (
               SELECT participant_id FROM research_consentrecord
               WHERE scope = %(scope)s AND granted AND withdrawn_at IS NULL
                 AND (expires_at IS NULL OR expires_at > %(now)s))"""


def evaluate(
    *,
    criteria: list[dict] | None = None,
    rule: EligibilityRule | None = None,
    study_id: int | None = None,
    only_ids: list[int] | None = None,
    limit: int = 50,
    now: datetime | None = None,
) -> EligibilityResult:
    """Screen, then apply every rule in one SQL statement. Eligible people come in an order
    scrambled per study, so successive studies do not all draw the same first page."""
    rule = rule or default_rule()
    now = now or timezone.now()
    base_qs = screened_participants(criteria or [])
    if only_ids is not None:
        base_qs = base_qs.filter(pk__in=only_ids)
    base_sql, base_params = (
        base_qs.order_by().values("id", "opted_out", "last_contacted_at", "consent_valid_until").query.sql_with_params()
    )
    params = {
        "window_start": now - timedelta(days=rule.window_days),
        "cooldown_start": now - timedelta(days=rule.cooldown_days),
        "study_id": study_id,
        "scope": rule.consent_scope,
        "now": now,
        "exclude_opted_out": rule.exclude_opted_out,
        "max_sessions": rule.max_sessions or None,  # 0 switches the rule off
        "no_show_limit": rule.no_show_limit or None,
        "require_consent": rule.require_consent,
        "limit": limit,
        "seed": study_id or 0,
    }
    # The base query uses positional %s; give them names so both styles don't mix.
    for i, value in enumerate(base_params):
        params[f"base_{i}"] = value
    named_base = base_sql.replace("%", "%%")
    for i in range(len(base_params)):
        named_base = named_base.replace("%%s", f"%(base_{i})s", 1)
    result = EligibilityResult(rule=rule)
    with connection.cursor() as cursor:
        consent = _CONSENT_COLUMN if rule.consent_scope == PANEL_CONSENT_SCOPE else _CONSENT_TABLE
        cursor.execute(_SQL.format(base=named_base, consent=consent), params)
        row = cursor.fetchone()
    result.screened = row[0]
    result.excluded = dict(zip(RULE_LABELS, row[1:7], strict=True))
    result.eligible = row[7]
    result.eligible_ids = list(row[8])
    return result
