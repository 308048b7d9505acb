"""Check-in history for the demo: fortnightly rounds with believable trends, one
relationship improving (Alex and Sam), one with a widening gap (Priya and Kim)."""

import random
from datetime import datetime, time, timedelta

from django.utils import timezone

from reflections.dimensions import DIMENSION_KEYS
from reflections.models import CheckInResponse, CheckInRound
from relationships.models import CoachingRelationship

COMMENTS = [
    "Keep the Friday slot; it's the one that works.",
    "Say it sooner when something bothers you.",
    "More time on what comes next, less on status updates.",
    "",
    "",
]


def _level(start: float, end: float, progress: float, rng: random.Random) -> int:
    value = start + (end - start) * progress + rng.uniform(-0.6, 0.6)
    return max(1, min(5, round(value)))


# coachee email -> (coach's view from, to), (coachee's view from, to)
TRENDS = {
    "sam@example.com": ((2.6, 4.4), (2.2, 4.3)),  # improving together
    "kim@example.com": ((3.8, 4.4), (3.6, 2.3)),  # the coach sees it rosier each time
    "jordan@example.com": ((3.0, 3.6), (3.2, 3.7)),
    "priya.coach@example.com": ((3.5, 3.8), (3.8, 4.0)),
}


def seed_checkins(organisation) -> None:
    rng = random.Random(11)  # noqa: S311 - demo data, not security
    today = timezone.localdate()
    relationships = CoachingRelationship.objects.filter(
        organisation=organisation, accepted_at__isnull=False
    ).select_related("coach", "coachee")
    for relationship in relationships:
        (coach_from, coach_to), (coachee_from, coachee_to) = TRENDS.get(
            relationship.coachee.email, ((3.2, 3.9), (3.0, 3.8))
        )
        start = timezone.localdate(relationship.accepted_at)
        opens_on = start + timedelta(days=14)
        last_day = today if relationship.status == "active" else today - timedelta(days=40)
        dates = []
        while opens_on <= last_day:
            dates.append(opens_on)
            opens_on += timedelta(days=14)
        for index, day in enumerate(dates):
            progress = index / max(1, len(dates) - 1)
            current = day + timedelta(days=6) >= today
            round_ = CheckInRound.objects.create(
                relationship=relationship,
                opens_on=day,
                closes_on=day + timedelta(days=6),
                closed_at=None if current else timezone.now(),
            )
            answered = []
            for person, (low, high) in (
                (relationship.coach, (coach_from, coach_to)),
                (relationship.coachee, (coachee_from, coachee_to)),
            ):
                # The current round: the coach has answered, the coachee has not (yet).
                if current and person == relationship.coachee:
                    continue
                if not current and rng.random() < 0.1:
                    continue  # missed now and then
                response = CheckInResponse(
                    round=round_, respondent=person, shared=rng.random() > 0.1
                )
                for key in DIMENSION_KEYS:
                    setattr(response, key, _level(low, high, progress, rng))
                response.comment = rng.choice(COMMENTS)
                response.save()
                # Answered during the round, so it lands in that month's anonymous trends.
                CheckInResponse.objects.filter(pk=response.pk).update(
                    submitted_at=timezone.make_aware(
                        datetime.combine(day + timedelta(days=rng.randint(0, 5)), time(12))
                    )
                )
                answered.append(person.pk)
            if not current:
                CheckInRound.objects.filter(pk=round_.pk).update(
                    coach_missed=relationship.coach_id not in answered,
                    coachee_missed=relationship.coachee_id not in answered,
                )


# (author, prompt, coachee the entry is about, days ago, text): each entry names only
# the author's own coachees, and is attached to the relationship it is about.
JOURNAL = [
    (
        "alex.coach@example.com",
        "shoes_now",
        "sam@example.com",
        170,
        "Sam probably still sees me as the person who announced the reorg. Fair. I need to show "
        "up differently before I ask for openness.",
    ),
    (
        "priya.coach@example.com",
        "bias_objective",
        "kim@example.com",
        60,
        "I rate Kim's trust in me higher than Kim does, every time. Am I mistaking politeness "
        "for trust because I like working with Kim?",
    ),
    (
        "alex.coach@example.com",
        "bias_availability",
        "jordan@example.com",
        30,
        "I cancelled on Jordan twice this month and never on Sam. Jordan noticed, surely.",
    ),
    (
        "alex.coach@example.com",
        "",
        None,
        5,
        "Note to self: ask, then wait. Count to five before filling the silence.",
    ),
]


def seed_journal(organisation) -> None:
    """Private reflections for the two demo coaches (Priya's gap with Kim is hers to
    notice), and monthly self-checks for Alex."""
    from accounts.models import User
    from reflections.models import IntegrityCheck, Reflection
    from reflections.prompts import INTEGRITY_BEHAVIOURS

    coaches = {
        u.email: u
        for u in User.objects.filter(
            email__in=["alex.coach@example.com", "priya.coach@example.com"],
            membership__organisation=organisation,
        )
    }
    now = timezone.now()
    for author_email, prompt, coachee_email, days_ago, body in JOURNAL:
        author = coaches[author_email]
        entry = Reflection(
            author=author,
            prompt=prompt,
            relationship=author.coaching.filter(coachee__email=coachee_email).first()
            if coachee_email
            else None,
            created_at=now - timedelta(days=days_ago),
        )
        entry.body = body
        entry.save()
    alex = coaches["alex.coach@example.com"]
    rng = random.Random(5)  # noqa: S311 - demo data, not security
    for months_ago in range(6, -1, -1):
        check = IntegrityCheck(
            author=alex, taken_on=timezone.localdate() - timedelta(days=30 * months_ago)
        )
        base = 3 + (6 - months_ago) / 6
        check.ratings = {
            key: max(1, min(5, round(base + rng.uniform(-0.7, 0.7))))
            for key, _ in INTEGRITY_BEHAVIOURS
        }
        check.save()
