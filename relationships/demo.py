"""Coaching data for the demo organisation: six months of relationships, sessions,
notes and action items, the same on every machine (a seeded random generator)."""

import random
import uuid
from datetime import datetime, time, timedelta

from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from notifications.models import Notification
from notifications.services import notify
from relationships.models import (
    ActionItem,
    CoachingRelationship,
    CoachingSession,
    Note,
    ScheduledSession,
    TalkingPoint,
)
from relationships.prompts import agenda_for

Focus = CoachingSession.Focus
Status = CoachingRelationship.Status

# (coach, coachee, status, months of history, purpose)
PAIRS = [
    (
        "alex.coach@example.com",
        "sam@example.com",
        Status.ACTIVE,
        6,
        "Help Sam grow into leading the platform team, and rebuild trust after the reorg.",
    ),
    (
        "alex.coach@example.com",
        "jordan@example.com",
        Status.ACTIVE,
        3,
        "Jordan is new to the team: get to know each other and agree how we work.",
    ),
    (
        "priya.coach@example.com",
        "kim@example.com",
        Status.ACTIVE,
        5,
        "Kim wants to move into operations planning; find the first steps together.",
    ),
    (
        "priya.coach@example.com",
        "robin@example.com",
        Status.INVITED,
        0,
        "I'd like to support you through the warehouse migration.",
    ),
    (
        "hana.hr@example.com",
        "priya.coach@example.com",
        Status.PAUSED,
        4,
        "Priya asked for a sounding board as a new coach.",
    ),
]

# What a session of each focus is about: none names anyone, so each fits every pair.
SUMMARIES = {
    Focus.RECAST_THE_PAST: [
        "We talked about how we have worked together so far and what we want from these sessions.",
        "We looked back at what got in the way last quarter and agreed to speak up sooner.",
    ],
    Focus.MASTER_THE_MOMENT: [
        "We replayed a tense meeting and what each of us felt in the moment.",
        "We practised the difficult conversation coming up on Thursday, twice.",
        "We noticed how quickly we both jump to solutions, and slowed down.",
    ],
    Focus.CO_CREATE_THE_FUTURE: [
        "Agreed what success looks like by the end of the quarter, and how we'll both know.",
        "Good energy today. We named two decisions that are fully yours to make.",
        "We mapped the next three months and who owns each step.",
    ],
    Focus.OTHER: [
        "Short catch-up: progress this fortnight, and one blocker we'll raise together.",
    ],
}
SHARED_NOTES = [
    "Thanks for being so open today. Let's keep the Friday slot.",
    "Links to the two articles we discussed are in the team drive.",
    "I noticed I interrupted you twice. Call it out if it happens again.",
]
PRIVATE_NOTES_COACH = [
    "They went quiet when last quarter came up. Don't push; come back to it.",
    "Am I giving them less time than the others? Check my calendar honestly.",
    "Their read on the incident was sharper than mine. Say so next time.",
]
PRIVATE_NOTES_COACHEE = [
    "I still don't feel I can disagree in front of the team. Raise it next time?",
    "Felt heard today. Writing that down so I remember it.",
]
ACTIONS = [
    ("coach", "Share my notes on the team's priorities before Friday"),
    ("coachee", "Write down three things I want from coaching"),
    ("coach", "Introduce them to someone who has done the role before"),
    ("coachee", "Lead the next retro"),
    ("coach", "Ask the team for feedback on my meeting style"),
    ("coachee", "Bring a first draft of the proposal to our next session"),
]


def _focus(session_number: int, rng: random.Random) -> str:
    """Recast the past first, as the method suggests; then mostly the other two, with
    the odd session that fits none of them."""
    if session_number == 0:
        return Focus.RECAST_THE_PAST
    return rng.choices(
        [Focus.MASTER_THE_MOMENT, Focus.CO_CREATE_THE_FUTURE, Focus.RECAST_THE_PAST, Focus.OTHER],
        weights=[45, 40, 7, 8],
    )[0]


def _at(day, hour=10):
    return timezone.make_aware(datetime.combine(day, time(hour, 0)))


def _extra_pairs(people) -> list[tuple]:
    """The extra colleagues pair up: each coaches the next, within no particular team."""
    from accounts.demo import FIRST_NAMES

    emails = [
        f"{name.lower()}@example.com"
        for name in FIRST_NAMES
        if f"{name.lower()}@example.com" in people
    ]
    return [
        (coach, coachee, Status.ACTIVE, 6, "Grow in the role, and keep each other honest.")
        for coach, coachee in zip(emails[::2], emails[1::2], strict=False)
    ] + [
        (coachee, coach, Status.ACTIVE, 5, "A second pair of eyes on the year ahead.")
        for coach, coachee in zip(emails[1::2], emails[2::2], strict=False)
    ]


def seed_relationships(organisation) -> None:
    rng = random.Random(7)  # noqa: S311 - demo data, not security
    today = timezone.localdate()
    people = {u.email: u for u in User.objects.filter(membership__organisation=organisation)}
    for coach_email, coachee_email, status, months, purpose in PAIRS + _extra_pairs(people):
        coach, coachee = people[coach_email], people[coachee_email]
        start = today - timedelta(days=30 * months + 3)
        relationship = CoachingRelationship(
            organisation=organisation, coach=coach, coachee=coachee, status=status
        )
        relationship.purpose = purpose
        relationship.save()
        CoachingRelationship.objects.filter(pk=relationship.pk).update(
            created_at=_at(start - timedelta(days=2)),
            accepted_at=_at(start - timedelta(days=1)) if status != Status.INVITED else None,
        )
        if status == Status.INVITED:
            continue
        held_on = start
        session_number = 0
        last_day = today if status == Status.ACTIVE else today - timedelta(days=40)
        while held_on <= last_day:
            focus = _focus(session_number, rng)
            session = CoachingSession(
                relationship=relationship,
                held_on=held_on,
                duration_minutes=rng.choice([30, 45, 45, 60]),
                focus=focus,
                created_by=coach,
            )
            session.agenda = agenda_for(focus)
            session.summary = rng.choice(SUMMARIES[focus])
            session.save()
            for author, visibility, texts in [
                (coach, Note.Visibility.PRIVATE, PRIVATE_NOTES_COACH),
                (coach, Note.Visibility.SHARED, SHARED_NOTES),
                (coachee, Note.Visibility.PRIVATE, PRIVATE_NOTES_COACHEE),
            ]:
                if rng.random() < 0.6:
                    note = Note(
                        relationship=relationship,
                        session=session,
                        author=author,
                        visibility=visibility,
                    )
                    note.body = rng.choice(texts)
                    note.save()
                    Note.objects.filter(pk=note.pk).update(created_at=_at(held_on, 17))
            owner, text = ACTIONS[session_number % len(ACTIONS)]
            item = ActionItem(
                relationship=relationship,
                session=session,
                owner=owner,
                due_on=held_on + timedelta(days=10),
                created_by=coach,
            )
            item.text = text
            if item.due_on < today and rng.random() < 0.9:
                late = rng.random() < 0.15
                item.done_at = _at(item.due_on + timedelta(days=3 if late else -2), 16)
            item.save()
            session_number += 1
            held_on += timedelta(days=14)
        if status == Status.ACTIVE:
            # The next session, a fortnight after the last one, as a fortnightly series.
            starts_at = _at(max(held_on, today + timedelta(days=1)))
            scheduled = ScheduledSession.objects.create(
                relationship=relationship,
                starts_at=starts_at,
                slot_starts_at=starts_at,
                ends_at=starts_at + timedelta(minutes=45),
                duration_minutes=45,
                time_zone=coach.time_zone,
                cadence=ScheduledSession.Cadence.FORTNIGHTLY,
                series=uuid.UUID(int=rng.getrandbits(128), version=4),
                created_by=coach,
            )
            _agenda(scheduled, coach, coachee)


# The next session's agenda so far: a point from each, and one the coachee keeps to
# themselves; the coach has been told of the coachee's shared one.
AGENDA = [
    ("coach", TalkingPoint.Visibility.SHARED, "How the last fortnight went"),
    ("coachee", TalkingPoint.Visibility.SHARED, "The conference budget for next year"),
    ("coachee", TalkingPoint.Visibility.PRIVATE, "Ask for feedback on my last presentation"),
]


def _agenda(scheduled, coach, coachee) -> None:
    people = {"coach": coach, "coachee": coachee}
    for position, (who, visibility, words) in enumerate(AGENDA):
        point = TalkingPoint(
            relationship=scheduled.relationship,
            scheduled=scheduled,
            author=people[who],
            visibility=visibility,
            position=position,
        )
        point.text = words
        point.save()
        if who == "coachee" and visibility == TalkingPoint.Visibility.SHARED:
            notify(
                recipient=coach,
                actor=coachee,
                kind=Notification.Kind.TALKING_POINT,
                verb="added a talking point for your next session",
                link=reverse("scheduled_detail", args=[scheduled.public_id]) + "#agenda",
                key=f"talking_point:{point.public_id}",
            )
