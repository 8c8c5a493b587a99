"""The company's standard templates, one per kind (the PRD has two versions).

`install()` is idempotent (keyed on template slug and version number) and is what
seed_demo and other apps' tests use to get published templates:

    from tooling.standard_templates import install
    install()
"""

from __future__ import annotations

from django.db import transaction

from portal.models import User
from tooling.models import Template, TemplateKind, TemplateVersion

S = dict  # a section: key, title, guidance, placeholder, required

PRD_V1 = [
    S(
        key="summary",
        title="Summary",
        guidance="Two or three sentences a VP can read in the lift: what {{product}} will ship and why now.",
        placeholder="We will … so that … because …",
        required=True,
    ),
    S(
        key="problem",
        title="Problem",
        guidance="Who has the problem, how we know (data, research insights, feedback themes), and its size.",
        placeholder="Today, {{product}} customers …",
        required=True,
    ),
    S(
        key="goals",
        title="Goals and success metrics",
        guidance="One primary metric with a target and a date; guardrail metrics that must not regress.",
        placeholder="Primary: … from … to … by …\nGuardrails: …",
        required=True,
    ),
    S(
        key="non_goals",
        title="Non-goals",
        guidance="What this deliberately does not do, so reviewers do not ask.",
        placeholder="- …",
    ),
    S(
        key="solution",
        title="Proposed solution",
        guidance="User stories, flows and the key decisions. Link designs.",
        placeholder="As a …, I want … so that …",
        required=True,
    ),
    S(
        key="open_questions",
        title="Open questions",
        guidance="What you still need to decide and who decides it.",
        placeholder="- [ ] …",
    ),
]

PRD_V2 = [
    *PRD_V1[:3],
    S(
        key="evidence",
        title="Evidence",
        guidance="Link the research insights, feedback themes and experiment results this builds on.",
        placeholder="- Insight: …\n- Feedback theme: …\n- Experiment: …",
        required=True,
    ),
    *PRD_V1[3:5],
    S(
        key="rollout",
        title="Rollout and experiment plan",
        guidance="Will this ship behind an experiment? Which launch tier? Which markets first?",
        placeholder="Experiment: …\nLaunch tier: T…\nMarkets: …",
        required=False,
    ),
    PRD_V1[5],
]

STANDARDS: list[dict] = [
    {
        "slug": "prd",
        "kind": TemplateKind.PRD,
        "name": "Product requirements document",
        "description": "The standard PRD for a feature or initiative that needs cross-team alignment.",
        "versions": [
            {"changelog": "First company-wide PRD.", "sections": PRD_V1},
            {
                "changelog": "Adds an Evidence section (insights, feedback, experiments) and a Rollout plan.",
                "sections": PRD_V2,
            },
        ],
    },
    {
        "slug": "one-pager",
        "kind": TemplateKind.ONE_PAGER,
        "name": "One-pager",
        "description": "A short pitch to get a go/no-go on exploring an idea.",
        "versions": [
            {
                "changelog": "First version.",
                "sections": [
                    S(key="idea", title="The idea", guidance="One paragraph.", required=True),
                    S(key="why_now", title="Why now", guidance="What changed for {{product}}.", required=True),
                    S(key="ask", title="The ask", guidance="People, time, decision needed.", required=True),
                ],
            }
        ],
    },
    {
        "slug": "experiment-brief",
        "kind": TemplateKind.EXPERIMENT_BRIEF,
        "name": "Experiment brief",
        "description": "Hypothesis, metrics and decision rule, written before the experiment starts.",
        "versions": [
            {
                "changelog": "First version.",
                "sections": [
                    S(
                        key="hypothesis",
                        title="Hypothesis",
                        guidance="If we …, then … will …, because …",
                        placeholder="If we … for {{product}} users, then …",
                        required=True,
                    ),
                    S(
                        key="metrics",
                        title="Primary and guardrail metrics",
                        guidance="One primary metric, its minimum detectable effect; guardrails.",
                        required=True,
                    ),
                    S(
                        key="design",
                        title="Design",
                        guidance="Variants, audience, allocation, duration and sample size.",
                        required=True,
                    ),
                    S(
                        key="decision_rule",
                        title="Decision rule",
                        guidance="What result makes us ship, iterate or stop — decided now, not after.",
                        required=True,
                    ),
                    S(key="risks", title="Risks", guidance="What could go wrong for customers."),
                ],
            }
        ],
    },
    {
        "slug": "research-plan",
        "kind": TemplateKind.RESEARCH_PLAN,
        "name": "Research plan",
        "description": "Goals, participants and method for a research study.",
        "versions": [
            {
                "changelog": "First version.",
                "sections": [
                    S(key="goals", title="Research goals", guidance="What decisions will this inform?", required=True),
                    S(
                        key="research_questions",
                        title="Research questions",
                        guidance="Three to five questions.",
                        required=True,
                    ),
                    S(
                        key="participants",
                        title="Participants",
                        guidance="Who, how many, which markets; the eligibility criteria.",
                        required=True,
                    ),
                    S(key="method", title="Method", guidance="Interviews, usability test, survey…", required=True),
                    S(key="timeline", title="Timeline", guidance="Fieldwork and synthesis dates."),
                ],
            }
        ],
    },
    {
        "slug": "launch-checklist",
        "kind": TemplateKind.LAUNCH_CHECKLIST,
        "name": "Launch plan",
        "description": "The narrative that goes with a launch's checklist: audience, message, risks.",
        "versions": [
            {
                "changelog": "First version.",
                "sections": [
                    S(key="what", title="What is launching", guidance="In customers' words.", required=True),
                    S(key="audience", title="Audience and markets", guidance="Who gets it, when.", required=True),
                    S(key="messaging", title="Messaging", guidance="Key message, channels, FAQ."),
                    S(key="risks", title="Risks and rollback", guidance="How we turn it off.", required=True),
                    S(key="success", title="Success criteria", guidance="At 1 day, 1 week and 1 month."),
                ],
            }
        ],
    },
    {
        "slug": "retro",
        "kind": TemplateKind.RETRO,
        "name": "Retrospective",
        "description": "What happened, what we learned, what we change — blameless.",
        "versions": [
            {
                "changelog": "First version.",
                "sections": [
                    S(key="context", title="Context", guidance="What we set out to do.", required=True),
                    S(key="went_well", title="What went well", required=True),
                    S(key="went_badly", title="What did not", required=True),
                    S(key="actions", title="Actions", guidance="Owner and date for each.", required=True),
                ],
            }
        ],
    },
]


@transaction.atomic
def install(*, by: User | None = None) -> dict[str, Template]:
    """Create and publish the standard templates that are missing. Returns them by slug."""
    from tooling import services

    templates: dict[str, Template] = {}
    for spec in STANDARDS:
        template = Template.objects.filter(slug=spec["slug"]).first()
        if template is None:
            template = services.template_create(
                kind=spec["kind"], name=spec["name"], slug=spec["slug"], description=spec["description"], by=by
            )
        for number, version_spec in enumerate(spec["versions"], start=1):
            if TemplateVersion.objects.filter(template=template, number=number).exists():
                continue
            version = services.template_version_create(
                template=template,
                sections=version_spec["sections"],
                changelog=version_spec["changelog"],
                variables=["product", "owner", "title", "date"],
            )
            services.template_version_publish(version=version, by=by)
        template.refresh_from_db()
        templates[spec["slug"]] = template
    return templates
