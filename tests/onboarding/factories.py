"""factory_boy factories for onboarding; `published_track()` builds a ready track via services."""

from __future__ import annotations

import datetime as dt

import factory

from onboarding import services
from onboarding.models import Article, Choice, Module, Question, Quiz, Task, Track
from tests.factories import UserFactory


class TrackFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Track

    title = factory.Sequence(lambda n: f"Track {n}")
    slug = factory.Sequence(lambda n: f"track-{n}")
    owner = factory.SubFactory(UserFactory, role="ops_lead")
    last_reviewed_on = factory.LazyFunction(dt.date.today)


class ModuleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Module

    track = factory.SubFactory(TrackFactory)
    order = factory.Sequence(lambda n: n)
    title = factory.Sequence(lambda n: f"Module {n}")
    content = "Read **this** first."


class TaskFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Task

    module = factory.SubFactory(ModuleFactory)
    track = factory.LazyAttribute(lambda t: t.module.track)
    order = factory.Sequence(lambda n: n)
    title = factory.Sequence(lambda n: f"Task {n}")
    kind = "read"
    due_offset_days = 1


class QuizFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Quiz

    track = factory.SubFactory(TrackFactory)
    title = factory.Sequence(lambda n: f"Quiz {n}")
    pass_mark = 50
    max_attempts = 2


class QuestionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Question

    quiz = factory.SubFactory(QuizFactory)
    order = factory.Sequence(lambda n: n)
    text = factory.Sequence(lambda n: f"Question {n}?")
    kind = "single"
    explanation = "Because the playbook says so."


class ChoiceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Choice

    question = factory.SubFactory(QuestionFactory)
    order = factory.Sequence(lambda n: n)
    text = factory.Sequence(lambda n: f"Choice {n}")
    correct = False


class ArticleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Article
        skip_postgeneration_save = True

    title = factory.Sequence(lambda n: f"Article {n}")
    slug = factory.Sequence(lambda n: f"article-{n}")
    body = "How we do things."
    owner = factory.SubFactory(UserFactory, role="ops_lead")

    @factory.post_generation
    def index(self, create, extracted, **kwargs):
        if create:
            services.article_refresh_search(article=self)


def quiz_with_questions(track: Track, *, n: int = 2, pass_mark: int = 50, max_attempts: int = 2) -> Quiz:
    """A quiz whose questions each have choices “right” (correct) and “wrong”."""
    quiz = QuizFactory(track=track, pass_mark=pass_mark, max_attempts=max_attempts)
    for i in range(n):
        question = QuestionFactory(quiz=quiz, order=i, text=f"Q{i + 1} of {quiz.title}?")
        ChoiceFactory(question=question, text="right", correct=True, order=0)
        ChoiceFactory(question=question, text="wrong", correct=False, order=1)
    return quiz


def answers_for(quiz: Quiz, *, right: int) -> dict[int, list[int]]:
    """Answer the first `right` questions correctly and the rest wrongly."""
    answers = {}
    for i, question in enumerate(quiz.questions.order_by("order")):
        choice = question.choices.get(correct=i < right)
        answers[question.pk] = [choice.pk]
    return answers


def published_track(*, by, offsets=(0, 1, 7, 30), quiz: bool = False, **fields) -> Track:
    track = TrackFactory(**fields)
    module = ModuleFactory(track=track, order=1)
    for i, offset in enumerate(offsets):
        TaskFactory(module=module, track=track, order=i, title=f"{track.title} task {i + 1}", due_offset_days=offset)
    if quiz:
        q = quiz_with_questions(track)
        TaskFactory(module=module, track=track, order=99, title="Take the quiz", kind="quiz", quiz=q, due_offset_days=5)
    return services.track_publish(track=track, by=by).track
