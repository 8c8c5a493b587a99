"""Onboarding demo: the “New PM — 90 days” track, a re-ramp track for PMs changing
product, knowledge articles, `newpm` three weeks in with one overdue task, and a cohort of
PMs at different stages whose milestones come from (backdated) audit-log activity.

Idempotent: everything is keyed on natural keys (slugs, titles, usernames) and left alone
once it exists; deterministic: random.Random(SEED); dates are relative to today.
"""

from __future__ import annotations

import datetime as dt
import random
from datetime import UTC

from django.db import transaction
from django.utils import timezone

from onboarding import services
from onboarding.models import (
    Article,
    ArticleVote,
    Audience,
    Choice,
    Enrollment,
    EnrollmentTask,
    Module,
    Question,
    Quiz,
    QuizAnswer,
    QuizAttempt,
    Task,
    Track,
)
from portal.models import AuditEntry, Notification

SEED = 8
DEMO_TARGET = "onboarding-demo-"  # target_id prefix of audit rows this demo creates

ARTICLES = [
    (
        "how-product-ops-works-here",
        "How product ops works here",
        "playbook",
        ["onboarding", "product-ops"],
        "What product ops provides, what it does not decide, and where to find everything.",
        """Product ops gives PMs **leverage**: shared templates, the tracking plan, the experimentation
platform, the research panel and this portal. It does **not** approve your roadmap or your experiments —
reviews are advisory, and their delay is measured.

## Where things live
| Need | Go to |
| --- | --- |
| PRD, one-pager, launch checklist | Tooling → Templates |
| Dashboards and the tracking plan | Analytics |
| Experiments and their results | Experiments |
| Insights, studies, participants | Research |
| Customer feedback themes | Feedback |

## Who to ask
Ops leads own the shared standards. Your buddy is your first stop for “how do we usually…” questions.""",
    ),
    (
        "prd-playbook",
        "The PRD playbook",
        "playbook",
        ["prd", "documents", "reviews"],
        "When to write a PRD, what good looks like, and how reviews work.",
        """Write a PRD when a change touches more than one team or takes more than two sprints.

## What good looks like
1. **Problem first.** One paragraph a customer would recognise, with evidence (insights, feedback themes).
2. **Success metrics** from the tracking plan — a primary metric and at least one guardrail.
3. **Non-goals.** What you are deliberately not doing.
4. **Rollout** — usually an experiment, with its brief linked.

## Reviews
Request a review from the document page. Reviews are *advisory*: you own the decision. Approval is only
required on products that opted in.""",
    ),
    (
        "tracking-plan-guide",
        "Using the tracking plan",
        "how_to",
        ["analytics", "tracking-plan", "events"],
        "How events are named, defined and validated before they reach dashboards.",
        """Every event in production is defined in the tracking plan: name (`object_action`, e.g.
`checkout_completed`), owner, properties with types, and which products send it.

Events that do not match their definition are **quarantined**, never dropped — check the data-quality
report before trusting a new chart. To add an event, propose it in Analytics → Tracking plan; an ops lead
reviews naming within two working days.""",
    ),
    (
        "experimentation-playbook",
        "Experimentation playbook",
        "playbook",
        ["experiments", "statistics", "guardrails"],
        "Briefs, sample sizes, guardrail metrics, sample-ratio mismatch and making the call.",
        """## Before you start
- Write the **experiment brief** from the template: hypothesis, primary metric, guardrails, minimum
  detectable effect and the sample size it needs.
- Pick guardrail metrics that must *not* get worse (refund rate, latency, support contacts).

## While it runs
Do not peek and stop early. The platform checks for **sample-ratio mismatch** (SRM): if the split is off,
the assignment is broken and the result is not trustworthy.

## Making the call
Report the lift with its interval (“+4.1% (1.2% to 7.0%)”). Inconclusive is a result: write it down in the
decision log so the next PM does not re-run it.""",
    ),
    (
        "dashboards-101",
        "Dashboards 101",
        "how_to",
        ["analytics", "dashboards"],
        "Start from a dashboard template, add your product's metrics, share it.",
        """Start from a **dashboard template** (Analytics → Templates) rather than a blank page: it comes with
the standard funnel and retention charts already wired to the tracking plan. Then add one chart for your
product's north-star metric and share the link in your team channel.""",
    ),
    (
        "working-with-research",
        "Working with research ops",
        "how_to",
        ["research", "insights", "customers"],
        "Find existing insights first, then request a study with a research plan.",
        """Search **insights** before asking for new research — most questions were answered before, in another
product. If you need a study, write a research plan from the template; research ops recruits participants
from the panel (with consent) and schedules sessions.""",
    ),
    (
        "customer-feedback-themes",
        "Reading customer feedback themes",
        "how_to",
        ["feedback", "customers", "nps"],
        "How feedback is grouped into themes and how to read a spike alert.",
        """Feedback from support, app reviews, NPS and sales calls is grouped into **themes** each night. A
theme's trend shows how often it is mentioned per week; a spike alert means it doubled against its usual
level. Link themes to your PRD's problem statement as evidence.""",
    ),
    (
        "roadmap-conventions",
        "Roadmap conventions",
        "reference",
        ["roadmap", "planning"],
        "Now / next / later horizons, statuses, and what stakeholders see.",
        """Roadmaps use three horizons — **now**, **next**, **later** — and items move to *shipped* with a link
to the launch. Dates are only committed for *now*. Stakeholders (viewer role) see every roadmap read-only.""",
    ),
    (
        "launch-checklist-guide",
        "Launch checklist guide",
        "how_to",
        ["launch", "release"],
        "What has to be true before a launch, and who signs off each part.",
        """Use the launch checklist template: support briefed, docs updated, tracking verified in the
data-quality report, rollback plan written, and the experiment (if any) decided.""",
    ),
    (
        "release-notes-style",
        "Release notes style guide",
        "reference",
        ["launch", "writing"],
        "Tone and format for customer-facing release notes.",
        """Release notes are written by the PM and edited by marketing.""",
    ),
]

# module title, content, links
MODULES = [
    (
        "Welcome and set-up",
        "Your first week is about people and context. Meet your manager and buddy, set up the portal, and "
        "watch how a product review runs before you lead one.",
        "Your profile and API tokens | /profile/\nProduct ops portal home | /",
        ["how-product-ops-works-here"],
    ),
    (
        "How we build products",
        "PRDs start from the shared template so reviewers know where to look. Reviews are advisory: you own "
        "your document and the decision.",
        "PRD template | /tooling/\nRoadmaps | /tooling/",
        ["prd-playbook", "roadmap-conventions"],
    ),
    (
        "Analytics and data",
        "Every metric you will quote comes from events defined in the tracking plan. Learn to read the "
        "standard dashboards and build your own.",
        "Dashboards | /analytics/\nTracking plan | /analytics/",
        ["tracking-plan-guide", "dashboards-101"],
    ),
    (
        "Experimentation",
        "We ship most changes behind an experiment. Learn the brief, the guardrails and how results are read.",
        "Experiments | /experiments/",
        ["experimentation-playbook"],
    ),
    (
        "Customers and research",
        "Existing insights and feedback themes answer most questions; talk to customers every week anyway.",
        "Research insights | /research/\nFeedback themes | /feedback/",
        ["working-with-research", "customer-feedback-themes"],
    ),
    (
        "Owning your product",
        "From day 30 you run your product's rituals: roadmap, reviews, launches. The 90-day retro closes the "
        "loop with your manager.",
        "Launch checklist template | /tooling/",
        ["launch-checklist-guide", "release-notes-style"],
    ),
]

# module index, title, kind, due offset, required, url or article slug or quiz title
TASKS = [
    (0, "Kick-off 1:1 with your manager", "meet", 0, True, ""),
    (0, "Meet your onboarding buddy", "meet", 1, True, ""),
    (0, "Set your timezone and create an API token", "do", 1, True, "/profile/"),
    (0, "Read: how product ops works here", "read", 1, True, "article:how-product-ops-works-here"),
    (0, "Join #product and #product-ops", "do", 1, False, ""),
    (0, "Shadow a product review meeting", "shadow", 5, True, ""),
    (1, "Read the PRD playbook", "read", 3, True, "article:prd-playbook"),
    (1, "Read two shipped PRDs from your area", "read", 5, True, "/tooling/"),
    (1, "Shadow a PRD review", "shadow", 7, True, ""),
    (1, "Quiz: how we write and review PRDs", "quiz", 10, True, "quiz:How we write and review PRDs"),
    (1, "Write your first PRD from the template", "do", 21, True, "/tooling/"),
    (1, "Get your first PRD reviewed and approved", "do", 45, True, ""),
    (2, "Read the tracking plan guide", "read", 4, True, "article:tracking-plan-guide"),
    (2, "Tour the product dashboards with an analyst", "meet", 6, True, "/analytics/"),
    (2, "Find your product's north-star metric and its last 90 days", "do", 10, True, "/analytics/"),
    (2, "Read this week's data-quality report", "read", 12, False, "/analytics/"),
    (2, "Create your first dashboard from a template", "do", 14, True, "article:dashboards-101"),
    (3, "Read the experimentation playbook", "read", 7, True, "article:experimentation-playbook"),
    (3, "Shadow an experiment readout", "shadow", 14, True, ""),
    (3, "Quiz: experimentation basics", "quiz", 18, True, "quiz:Experimentation basics"),
    (3, "Write an experiment brief", "do", 30, True, "/tooling/"),
    (3, "Start your first experiment", "do", 60, True, "/experiments/"),
    (4, "Read the research insights for your product", "read", 9, True, "/research/"),
    (4, "Meet the research ops lead", "meet", 12, True, ""),
    (4, "Review last month's feedback themes", "read", 14, True, "/feedback/"),
    (4, "Sit in on three customer calls", "shadow", 21, True, ""),
    (4, "Request a research study", "do", 45, False, "article:working-with-research"),
    (5, "30-day check-in with your manager", "meet", 30, True, ""),
    (5, "Present your product's state at the team meeting", "do", 35, True, ""),
    (5, "Draft next quarter's roadmap", "do", 60, True, "/tooling/"),
    (5, "60-day check-in with your manager", "meet", 60, True, ""),
    (5, "Lead a product review", "do", 75, True, ""),
    (5, "90-day retrospective with your manager", "meet", 90, True, ""),
    (5, "Write a retro on your onboarding", "do", 90, False, "/tooling/"),
]

# quiz title, pass mark, [(question, kind, explanation, [(choice, correct)])]
QUIZZES = [
    (
        "How we write and review PRDs",
        80,
        [
            (
                "Who makes the final decision on a PRD after a review?",
                "single",
                "Reviews are advisory: the PM owns the document and the decision (unless the product opted in "
                "to required approval).",
                [("The PM who owns it", True), ("The ops lead reviewing it", False), ("The group PM", False)],
            ),
            (
                "Which sections must every PRD have?",
                "multiple",
                "Problem with evidence, success metrics with a guardrail, and non-goals. A launch date is "
                "optional at PRD stage.",
                [
                    ("Problem with evidence", True),
                    ("Success metrics", True),
                    ("Non-goals", True),
                    ("Launch date", False),
                ],
            ),
            (
                "Where do success metrics come from?",
                "single",
                "Metrics are built from events in the tracking plan, so everyone computes them the same way.",
                [
                    ("The tracking plan", True),
                    ("Whatever the team's spreadsheet uses", False),
                    ("The sales CRM", False),
                ],
            ),
            (
                "When is a PRD the right document?",
                "single",
                "Use a one-pager for small changes; a PRD when more than one team is involved or it takes "
                "more than two sprints.",
                [
                    ("The change touches several teams or takes more than two sprints", True),
                    ("Any bug fix", False),
                    ("Only for new products", False),
                ],
            ),
            (
                "What evidence belongs in the problem statement?",
                "multiple",
                "Research insights and feedback themes are the shared evidence base; opinions are not evidence.",
                [("Research insights", True), ("Feedback themes", True), ("A stakeholder's opinion", False)],
            ),
        ],
    ),
    (
        "Experimentation basics",
        70,
        [
            (
                "What does a guardrail metric do?",
                "single",
                "A guardrail must not get worse while you optimise the primary metric (e.g. refunds, latency).",
                [
                    ("Protects something that must not get worse", True),
                    ("Is the metric you want to improve", False),
                    ("Decides the sample size", False),
                ],
            ),
            (
                "The platform flags a sample-ratio mismatch (SRM). What does it mean?",
                "single",
                "SRM means the observed split differs from the planned one: assignment is broken, so the result "
                "cannot be trusted until it is fixed.",
                [
                    ("Assignment is broken; do not trust the result", True),
                    ("The variant is winning", False),
                    ("You need a bigger sample", False),
                ],
            ),
            (
                "Why not stop an experiment as soon as it looks significant?",
                "single",
                "Peeking inflates false positives; run to the planned sample size.",
                [
                    ("Peeking inflates false positives", True),
                    ("The platform charges per day", False),
                    ("Results are only computed at the end", False),
                ],
            ),
            (
                "Which belong in an experiment brief?",
                "multiple",
                "Hypothesis, primary metric, guardrails and the minimum detectable effect with its sample size.",
                [
                    ("Hypothesis", True),
                    ("Primary metric and guardrails", True),
                    ("Minimum detectable effect", True),
                    ("The expected winner", False),
                ],
            ),
            (
                "An experiment ends inconclusive. What do you do?",
                "single",
                "Inconclusive is a result: record it in the decision log so nobody re-runs it blindly.",
                [
                    ("Record it in the decision log", True),
                    ("Re-run it until it wins", False),
                    ("Delete it", False),
                ],
            ),
        ],
    ),
]

REAMP_TASKS = [
    (0, "Handover 1:1 with the previous PM", "meet", 1, True, ""),
    (0, "Read the product's last three PRDs", "read", 3, True, "/tooling/"),
    (0, "Review the product's dashboards", "read", 3, True, "/analytics/"),
    (1, "Meet the engineering and design leads", "meet", 5, True, ""),
    (1, "Review the running experiments", "read", 7, True, "/experiments/"),
    (1, "Update the roadmap with your first priorities", "do", 21, True, "/tooling/"),
]

# username, days since start, manager, buddy
COHORT = [
    ("lucas", 240, "amara", "pm"),
    ("sofia", 236, "amara", "priya"),
    ("omar", 231, "diego", "pm"),
    ("hana", 152, "diego", "amara"),
    ("liam", 147, "mei", "priya"),
    ("zoe", 141, "jonas", "pm"),
    ("arjun", 74, "jonas", "priya"),
    ("elena", 69, "priya", "amara"),
    ("kwame", 36, "priya", "pm"),
    ("isabel", 31, "diego", "amara"),
]
SMALL_COHORT = ["lucas", "hana", "arjun"]
# Tasks people are often late on (the "where people get stuck" signal).
STICKY = {
    "Get your first PRD reviewed and approved",
    "Sit in on three customer calls",
    "Start your first experiment",
    "Find your product's north-star metric and its last 90 days",
}
# How hard each question is (probability of missing it).
MISS_RATE = {0: 0.1, 1: 0.45, 2: 0.1, 3: 0.2, 4: 0.25}


def _at(day: dt.date, hour: int) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour % 24, 0), tzinfo=UTC)


def _seed_articles(org, *, small: bool) -> dict[str, Article]:
    articles = {}
    owners = ["ops", "ravi"]
    today = timezone.localdate()
    for i, (slug, title, kind, tags, summary, body) in enumerate(ARTICLES[: 6 if small else None]):
        existing = Article.objects.filter(slug=slug).first()
        if existing:
            articles[slug] = existing
            continue
        reviewed = today - dt.timedelta(days=30 + 41 * i)  # the last ones are stale
        articles[slug] = services.article_save(
            title=title,
            body=body,
            by=org.users["ops"],
            owner=org.users[owners[i % 2]],
            slug=slug,
            kind=kind,
            summary=summary,
            tags=tags,
            reviewed_on=reviewed,
        )
    return articles


def _build_track(org, *, slug, title, audience, description, modules, tasks, quizzes, articles) -> Track:
    track, created = Track.objects.get_or_create(
        slug=slug,
        defaults={
            "title": title,
            "audience": audience,
            "owner": org.users["ops"],
            "description": description,
            "review_interval_days": 90,
            "last_reviewed_on": timezone.localdate() - dt.timedelta(days=40),
        },
    )
    if not created:
        return track
    module_rows = []
    for order, (m_title, content, links, article_slugs) in enumerate(modules, start=1):
        module = Module.objects.create(track=track, order=order, title=m_title, content=content, links=links)
        module.articles.set([articles[s] for s in article_slugs if s in articles])
        module_rows.append(module)
    quiz_rows = {}
    for q_title, pass_mark, questions in quizzes:
        quiz = Quiz.objects.create(track=track, title=q_title, pass_mark=pass_mark, max_attempts=3)
        for order, (text, kind, explanation, choices) in enumerate(questions, start=1):
            question = Question.objects.create(quiz=quiz, order=order, text=text, kind=kind, explanation=explanation)
            Choice.objects.bulk_create(
                Choice(question=question, order=n, text=c, correct=ok) for n, (c, ok) in enumerate(choices, start=1)
            )
        quiz_rows[q_title] = quiz
    for order, (m, t_title, kind, offset, required, ref) in enumerate(tasks, start=1):
        task = Task(track=track, module=module_rows[m], order=order, title=t_title, kind=kind, due_offset_days=offset)
        task.required = required
        if ref.startswith("article:"):
            task.article = articles.get(ref.removeprefix("article:"))
        elif ref.startswith("quiz:"):
            task.quiz = quiz_rows[ref.removeprefix("quiz:")]
        else:
            task.url = ref
        task.full_clean()
        task.save()
    return services.track_publish(track=track, by=org.users["ops"]).track


def _backdated_audit(*, user, action: str, at: dt.datetime, target_type: str, label: str, changes=None, key=""):
    """An audit row for past demo activity, unless other apps' demos already recorded this
    action for this person at or before that time (theirs win). Their rows are stamped
    “now”, so a cohort member who started months ago still gets their earlier first time."""
    if AuditEntry.objects.filter(actor=user, action=action, at__lte=at).exists():
        return None
    entry = AuditEntry.objects.create(
        actor=user,
        actor_label=user.username,
        action=action,
        target_type=target_type,
        target_id=f"{DEMO_TARGET}{key or user.username}",
        target_label=label,
        changes=changes or {},
    )
    # Demo only: the log is append-only through save(); backdating a fresh demo row is the exception.
    AuditEntry.objects.filter(pk=entry.pk).update(at=at)
    return entry


def _seed_milestones(org, enrollment: Enrollment, plan: dict[str, int], rng: random.Random) -> None:
    user = enrollment.user
    today = timezone.localdate()

    def when(day: int) -> dt.datetime | None:
        date = enrollment.start_on + dt.timedelta(days=day)
        return _at(date, 9 + rng.randint(0, 8)) if date < today else None

    product = (user.products.first() or org.products["checkout"]).name
    if (at := when(plan.get("prd_created", 999))) is not None:
        created = _backdated_audit(
            user=user,
            action="document.create",
            at=at,
            target_type="tooling.document",
            label=f"PRD: {product} — first proposal by {user.first_name}",
            changes={"kind": "prd"},
            key=f"prd-{user.username}",
        )
        if created and (approved := when(plan.get("prd_approved", 999))) is not None:
            reviewer = org.users["ops"]
            entry = AuditEntry.objects.create(
                actor=reviewer,
                actor_label=reviewer.username,
                action="document.approve",
                target_type="tooling.document",
                target_id=created.target_id,
                target_label=created.target_label,
            )
            AuditEntry.objects.filter(pk=entry.pk).update(at=approved)
    for key, action, target_type, label in [
        ("experiment_started", "experiment.start", "experiments.experiment", f"{product}: first test"),
        ("insight_read", "insight.view", "research.insight", "Shoppers abandon when shipping cost appears late"),
        ("dashboard_created", "dashboard.create", "analytics.dashboard", f"{product} weekly health"),
    ]:
        if (at := when(plan.get(key, 999))) is not None:
            _backdated_audit(user=user, action=action, at=at, target_type=target_type, label=label)


def _answer_quiz(enrollment: Enrollment, quiz: Quiz, day: dt.date, rng: random.Random, *, fail_first=False) -> None:
    questions = list(quiz.questions.prefetch_related("choices"))
    for number in range(1, quiz.max_attempts + 1):
        results = []
        for i, question in enumerate(questions):
            miss = (fail_first and number == 1 and i in (1, 4)) or rng.random() < MISS_RATE.get(i, 0.2) / number
            results.append((question, not miss))
        score = sum(ok for _q, ok in results) / len(results)
        passed = score * 100 >= quiz.pass_mark
        attempt = QuizAttempt.objects.create(
            enrollment=enrollment,
            quiz=quiz,
            number=number,
            score=score,
            passed=passed,
            submitted_at=_at(day, 10 + number),
        )
        answers = QuizAnswer.objects.bulk_create(
            QuizAnswer(attempt=attempt, question=question, correct=ok) for question, ok in results
        )
        links = []
        for answer, (question, ok) in zip(answers, results, strict=True):
            chosen = (
                [c for c in question.choices.all() if c.correct]
                if ok
                else [c for c in question.choices.all() if not c.correct][:1]
            )
            links += [QuizAnswer.choices.through(quizanswer_id=answer.pk, choice_id=c.pk) for c in chosen]
        QuizAnswer.choices.through.objects.bulk_create(links)
        if passed:
            enrollment.items.filter(task__quiz=quiz).update(completed_at=attempt.submitted_at)
            return


def _progress(enrollment: Enrollment, rng: random.Random, *, overdue_title: str = "", finish_all: bool) -> None:
    """Complete what is due (some late), leaving open what is not due yet."""
    today = timezone.localdate()
    items = list(enrollment.items.select_related("task__quiz").order_by("due_on", "task__order"))
    done = []
    for item in items:
        task = item.task
        if task.title == overdue_title:
            continue
        late = rng.randint(2, 12) if task.title in STICKY and rng.random() < 0.6 else 0
        early = rng.randint(0, min(2, task.due_offset_days))
        done_on = item.due_on + dt.timedelta(days=late - early if late else -early)
        if not finish_all and (item.due_on >= today or done_on >= today):
            continue
        if task.kind == Task.Kind.QUIZ:
            _answer_quiz(enrollment, task.quiz, min(done_on, today - dt.timedelta(days=1)), rng, fail_first=late > 0)
            continue
        item.completed_at = _at(min(done_on, today - dt.timedelta(days=1)), 9 + rng.randint(0, 8))
        done.append(item)
    EnrollmentTask.objects.bulk_update(done, ["completed_at"])
    open_required = enrollment.items.filter(task__required=True, completed_at__isnull=True).exists()
    if not open_required:
        last = max(i.completed_at for i in enrollment.items.filter(task__required=True))
        Enrollment.objects.filter(pk=enrollment.pk).update(status=Enrollment.Status.COMPLETED, completed_at=last)


def _enroll(org, track: Track, username: str, days_ago: int, manager: str, buddy: str) -> Enrollment | None:
    user = org.users[username]
    if Enrollment.objects.filter(user=user, track=track).exists():
        return None
    return services.enrollment_create(
        user=user,
        track=track,
        start_on=timezone.localdate() - dt.timedelta(days=days_ago),
        buddy=org.users[buddy],
        manager=org.users[manager],
        by=org.users["ops"],
    )


def _seed_votes(org, articles: dict[str, Article], rng: random.Random) -> None:
    voters = [u for u in org.pms if u.username not in ("pm",)]
    for slug, article in articles.items():
        useful_rate = 0.25 if slug == "release-notes-style" else 0.85
        for voter in rng.sample(voters, k=min(len(voters), 4 if slug == "release-notes-style" else 3)):
            if not ArticleVote.objects.filter(article=article, user=voter).exists():
                services.article_vote(article=article, user=voter, useful=rng.random() < useful_rate)


@transaction.atomic
def seed(org, *, small: bool = False) -> str:
    rng = random.Random(SEED)
    articles = _seed_articles(org, small=small)
    track = _build_track(
        org,
        slug="new-pm-90-days",
        title="New PM — 90 days",
        audience=Audience.NEW_PM,
        description="From your first day to owning your product: people, tools and the way we build, "
        "with real dates from your start date. Milestones are measured from what you actually do in the "
        "portal — your first PRD, dashboard and experiment.",
        modules=MODULES,
        tasks=TASKS,
        quizzes=QUIZZES,
        articles=articles,
    )
    _build_track(
        org,
        slug="changing-product",
        title="Changing product: re-ramp in 3 weeks",
        audience=Audience.CHANGING_PRODUCT,
        description="For PMs moving to another product: hand-over, context and your first priorities.",
        modules=[MODULES[0][:3] + ([],), MODULES[1][:3] + ([],)],
        tasks=REAMP_TASKS,
        quizzes=[],
        articles=articles,
    )

    # newpm: three weeks in, everything due so far done except one overdue task.
    newpm = _enroll(org, track, "newpm", 21, "pm", "lucas")
    if newpm is not None:
        _progress(
            newpm, rng, overdue_title="Find your product's north-star metric and its last 90 days", finish_all=False
        )
        _seed_milestones(org, newpm, {"insight_read": 4, "dashboard_created": 13}, rng)

    people = [row for row in COHORT if not small or row[0] in SMALL_COHORT]
    for username, days_ago, manager, buddy in people:
        enrollment = _enroll(org, track, username, days_ago, manager, buddy)
        if enrollment is None:
            continue
        # Later cohorts ramp faster: milestone days shrink with recency.
        speed = 0.6 + 0.4 * min(days_ago, 240) / 240
        plan = {
            "insight_read": round(rng.randint(3, 8) * speed),
            "dashboard_created": round(rng.randint(10, 20) * speed),
            "prd_created": round(rng.randint(22, 40) * speed),
            "prd_approved": round(rng.randint(40, 60) * speed),
            "experiment_started": round(rng.randint(50, 80) * speed),
        }
        _progress(enrollment, rng, finish_all=days_ago > 120)
        _seed_milestones(org, enrollment, plan, rng)
    # Cohort members were told about their enrollment months ago: not news in their inbox today.
    Notification.objects.filter(
        kind="onboarding.enrolled", user__username__in=[row[0] for row in people], read_at__isnull=True
    ).update(read_at=timezone.now())
    _seed_votes(org, articles, rng)
    n_items = EnrollmentTask.objects.filter(enrollment__track=track).count()
    return (
        f"{Track.objects.count()} tracks, {track.tasks.count()} tasks, {Enrollment.objects.count()} enrollments "
        f"({n_items} dated tasks), {Article.objects.count()} articles"
    )
