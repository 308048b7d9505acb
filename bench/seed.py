"""Seed a large organisation fast: rows are generated in Python and streamed into
PostgreSQL with COPY. Private text is encrypted exactly as in production (the same
key, the same associated data), so the pages decrypt what they show.

The data set is deterministic for a given scale (a seeded random generator), apart
from public ids, nonces and the dates, which follow today.
"""

import math
import random
import sys
import time
import uuid
import zoneinfo
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock
from types import SimpleNamespace

from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import generate_totp_secret
from django.contrib.auth.hashers import make_password
from django.core.management.color import no_style
from django.db import connection

from accounts.models import Membership, Organisation, Team, User
from privacy.encryption import encrypt
from reflections import rollups
from reflections.dimensions import DIMENSION_KEYS
from reflections.models import CheckInResponse, CheckInRound, Reflection, end_of_day
from reflections.services import ROUND_WINDOW_DAYS
from relationships.models import (
    ActionItem,
    CoachingRelationship,
    CoachingSession,
    Note,
    ScheduledSession,
    TalkingPoint,
)

BENCH_PASSWORD = "rapport-bench"  # noqa: S105 - a throwaway benchmark database only
COACH_EMAIL = "coach@bench.example"
COACHEE_EMAIL = "coachee@bench.example"
HR_EMAIL = "hr@bench.example"
# A coach with five years of weekly sessions with a few coachees: whom search is
# measured for (thousands of rows to decrypt).
HISTORIAN_EMAIL = "historian@bench.example"
ORGANISATION_SLUG = "bench-organisation"
TIME_ZONE = "Europe/London"  # everyone's, so the coaches' clocks too


@dataclass(frozen=True)
class Scale:
    members: int
    relationships: int
    months: int
    teams: int
    # Days between two sessions of a pair, on average: ~100,000 sessions at full scale.
    session_every_days: int
    bench_coachees: int  # how many people the signed-in coach coaches
    reflection_writers: int
    reflections_each: int
    bench_reflections: int  # the signed-in coach's own journal
    historian_coachees: int  # the five-year coach's coachees (HISTORIAN_EMAIL)
    historian_years: int


SCALES = {
    "full": Scale(
        members=10_000,
        relationships=5_000,
        months=24,
        teams=40,
        session_every_days=18,
        bench_coachees=8,
        reflection_writers=1_000,
        reflections_each=10,
        bench_reflections=150,
        historian_coachees=4,
        historian_years=5,
    ),
    # For the smoke test: the same shapes, in seconds.
    "tiny": Scale(
        members=60,
        relationships=25,
        months=3,
        teams=4,
        session_every_days=14,
        bench_coachees=3,
        reflection_writers=5,
        reflections_each=3,
        bench_reflections=10,
        historian_coachees=1,
        historian_years=1,
    ),
}

AGENDAS = [
    "Look back at the launch review and what we would do differently.",
    "Prepare the difficult conversation with the platform team.",
    "Where do you want to be in a year, and what gets you there?",
    "Feedback from the quarterly planning, both ways.",
]
SUMMARIES = [
    "We walked through the timeline and found the moment the plan changed. "
    "Next time we flag scope changes in the weekly update.",
    "Role-played the opening; agreed to lead with the shared goal.",
    "Three options on the table; a first step this week.",
    "",
]
NOTES = [
    "Seemed more confident than last time; ask about the hiring panel next.",
    "I promised an introduction to the data team. Do it before Friday.",
    "Worth noticing: I interrupted twice when we talked about the deadline.",
    "Shared: the reading list we talked about, and the link to the design review.",
    "Felt rushed today. Book a longer slot next time.",
]
ITEMS = [
    "Draft the proposal and share it",
    "Book the follow-up with the platform team",
    "Read the chapter on feedback",
    "Write down three things that went well",
]
POINTS = [
    "How the launch went",
    "The on-call rota after the reorg",
    "What I want to learn next quarter",
    "Feedback on my last design review",
]
COMMENTS = ["Keep the Friday slot.", "Say it sooner when something bothers you.", "More of this."]
REFLECTIONS = [
    "What did I assume about their week before asking? Most of it was wrong.",
    "I talked for most of the session. Next time: questions first.",
    "The gap in how we see reliability is worth a conversation.",
]


@dataclass
class Seeded:
    organisation_id: int
    counts: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0


class Progress:
    """A one-line progress bar on stderr."""

    def __init__(self, label: str, total: int, enabled: bool):
        self.label, self.total, self.enabled = label, max(total, 1), enabled
        self.done = 0
        self.started = time.monotonic()

    def advance(self, n: int = 1) -> None:
        self.done += n
        if self.enabled and (self.done % 5000 < n or self.done >= self.total):
            share = min(self.done / self.total, 1)
            bar = "#" * int(share * 30)
            sys.stderr.write(
                f"\r  {self.label:<22} [{bar:<30}] {self.done:>9,} "
                f"{time.monotonic() - self.started:6.1f}s"
            )
            sys.stderr.flush()

    def finish(self) -> None:
        if self.enabled:
            sys.stderr.write("\n")


def _copy(model, columns: list[str], rows: list[tuple], progress: bool) -> int:
    """Stream rows into the model's table. `columns` are attribute names."""
    quote = connection.ops.quote_name
    table = quote(model._meta.db_table)
    names = ", ".join(quote(model._meta.get_field(name).column) for name in columns)
    bar = Progress(model._meta.verbose_name_plural, len(rows), progress)
    with (
        connection.cursor() as cursor,
        cursor.cursor.copy(
            f"COPY {table} ({names}) FROM STDIN"  # noqa: S608 - names come from the models
        ) as copy,
    ):
        for row in rows:
            copy.write_row(row)
            bar.advance()
    bar.finish()
    return len(rows)


def _encrypted(model, attribute: str, public_id, text: str, **bound) -> str:
    """The ciphertext production would store for `text` on that row: sealed with its
    author's or its relationship's data key, made in the key store as production makes it."""
    descriptor = model.__dict__[attribute]
    row = SimpleNamespace(_meta=model._meta, public_id=public_id, **bound)
    if not text and not descriptor.seal_empty:
        return ""
    return encrypt(
        text, associated_data=descriptor.associated_data(row), owner=descriptor.owner_of(row)
    )


def _next_id(model) -> int:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT COALESCE(MAX(id), 0) + 1 FROM {model._meta.db_table}")  # noqa: S608
        return cursor.fetchone()[0]


def _at(day: date, rng: random.Random) -> datetime:
    return datetime.combine(day, clock(8), tzinfo=UTC) + timedelta(minutes=rng.randrange(600))


def seed(scale: Scale, *, progress: bool = True, today: date | None = None) -> Seeded:
    """Seed one organisation of `scale` into an empty, migrated database."""
    started = time.monotonic()
    rng = random.Random(8)  # noqa: S311 - benchmark data, not security
    today = today or datetime.now(UTC).date()
    first_day = today - timedelta(days=round(scale.months * 30.44))
    now = datetime.now(UTC)

    organisation = Organisation.objects.create(name="Bench Industries", slug=ORGANISATION_SLUG)
    teams = Team.objects.bulk_create(
        [Team(organisation=organisation, name=f"Team {n + 1:02d}") for n in range(scale.teams)]
    )
    counts: dict[str, int] = {}

    # People. The first three are the ones the harness signs in as.
    password = make_password(BENCH_PASSWORD)
    user_ids = list(range(_next_id(User), _next_id(User) + scale.members))
    emails = [COACH_EMAIL, COACHEE_EMAIL, HR_EMAIL, HISTORIAN_EMAIL] + [
        f"member{n}@bench.example" for n in range(5, scale.members + 1)
    ]
    joined = datetime.combine(first_day, clock(9), tzinfo=UTC) - timedelta(days=30)
    counts["users"] = _copy(
        User,
        [
            "id",
            "public_id",
            "email",
            "display_name",
            "password",
            "time_zone",
            "is_staff",
            "is_superuser",
            "is_active",
            "date_joined",
            "calendar_feed_key",
            "daily_digest",
        ],
        [
            (
                uid,
                uuid.uuid4(),
                email,
                f"Member {n + 1}",
                password,
                TIME_ZONE,
                False,
                False,
                True,
                joined,
                "",
                False,
            )
            for n, (uid, email) in enumerate(zip(user_ids, emails, strict=True))
        ],
        progress,
    )
    coach_id, coachee_id, hr_id = user_ids[:3]
    _copy(
        EmailAddress,
        ["user", "email", "verified", "primary"],
        [(uid, email, True, True) for uid, email in zip(user_ids, emails, strict=True)],
        progress,
    )
    team_of = {uid: teams[n % len(teams)].pk for n, uid in enumerate(user_ids)}
    team_of[hr_id] = None
    _copy(
        Membership,
        ["user", "public_id", "organisation", "team", "role", "joined_at"],
        [
            (
                uid,
                uuid.uuid4(),
                organisation.pk,
                team_of[uid],
                Membership.Role.HR_ADMIN if uid == hr_id else Membership.Role.MEMBER,
                joined,
            )
            for uid in user_ids
        ],
        progress,
    )
    Authenticator.objects.create(
        user_id=hr_id, type=Authenticator.Type.TOTP, data={"secret": generate_totp_secret()}
    )

    # Pairs: the signed-in coach has a few coachees, the first for the whole period; the
    # others are spread over a fifth of the members acting as coaches.
    coach_pool = user_ids[3 : 3 + max(scale.members // 10, 1)]
    coachee_pool = [uid for uid in user_ids[3:] if uid not in set(coach_pool)]
    rng.shuffle(coachee_pool)
    coachees = [coachee_id] + coachee_pool
    pairs = []
    for n in range(scale.relationships):
        coach = coach_id if n < scale.bench_coachees else coach_pool[n % len(coach_pool)]
        pairs.append((coach, coachees[n % len(coachees)]))
    # After every other pair, and drawn from a generator of their own, so the rest of the
    # data is what it was before the historian came: their coachees, for five years.
    historian_id = user_ids[3]
    taken = {coachee for coach, coachee in pairs if coach == historian_id}
    spare = [uid for uid in reversed(coachee_pool) if uid not in taken]
    pairs += [(historian_id, spare[k]) for k in range(scale.historian_coachees)]
    history_rng = random.Random(9)  # noqa: S311 - benchmark data
    main_rng = rng

    relationship_rows, session_rows, note_rows, item_rows = [], [], [], []
    scheduled_rows = []
    round_rows, response_rows = [], []
    ids = {
        model: _next_id(model)
        for model in [
            CoachingRelationship,
            CoachingSession,
            Note,
            ActionItem,
            CheckInRound,
            ScheduledSession,
        ]
    }
    point_rows = []
    span = (today - first_day).days
    for n, (coach, coachee) in enumerate(pairs):
        historian = n >= scale.relationships
        rng = history_rng if historian else main_rng
        relationship_id = ids[CoachingRelationship] + n
        public_id = uuid.uuid4()
        accepted_on = first_day if n == 0 else first_day + timedelta(days=rng.randrange(span - 7))
        if historian:
            accepted_on = today - timedelta(days=round(scale.historian_years * 365.25))
        roll = rng.random()
        status = CoachingRelationship.Status.ACTIVE
        ended_on = None
        if historian:
            pass  # active for the whole five years
        elif n >= scale.bench_coachees and roll < 0.08:
            status = CoachingRelationship.Status.ENDED
            lasted = rng.randrange(30, max((today - accepted_on).days, 31))
            ended_on = min(accepted_on + timedelta(days=lasted), today - timedelta(days=1))
        elif n >= scale.bench_coachees and roll < 0.13:
            status = CoachingRelationship.Status.PAUSED
        last_day = ended_on or today
        accepted_at = _at(accepted_on, rng)
        relationship_rows.append(
            (
                relationship_id,
                public_id,
                organisation.pk,
                coach,
                coachee,
                "",
                status,
                CoachingRelationship.Cadence.WEEKLY,
                _encrypted(
                    CoachingRelationship,
                    "purpose",
                    public_id,
                    "Grow into leading the platform team.",
                    coach_id=coach,
                    organisation_id=organisation.pk,
                ),
                accepted_at - timedelta(days=2),
                accepted_at,
                _at(ended_on, rng) if ended_on else None,
                False,
            )
        )
        if status == CoachingRelationship.Status.ACTIVE:
            # The next session of a fortnightly series, on a weekday within a fortnight.
            starts_at = datetime.combine(
                today + timedelta(days=rng.randrange(1, 15)), clock(9 + rng.randrange(8)), UTC
            )
            scheduled_id = ids[ScheduledSession]
            ids[ScheduledSession] += 1
            scheduled_rows.append(
                (
                    scheduled_id,
                    uuid.uuid4(),
                    relationship_id,
                    starts_at,
                    starts_at,
                    starts_at + timedelta(minutes=45),
                    45,
                    "UTC",
                    ScheduledSession.Cadence.FORTNIGHTLY,
                    uuid.uuid4(),
                    ScheduledSession.Status.SCHEDULED,
                    coach,
                    1,
                    accepted_at,
                    accepted_at,
                )
            )
            # Its agenda: the coach's two points (one a private reminder) and the
            # coachee's two.
            for position, (author, visibility) in enumerate(
                [(coach, "shared"), (coachee, "shared"), (coach, "private"), (coachee, "shared")]
            ):
                point_public = uuid.uuid4()
                point_rows.append(
                    (
                        point_public,
                        relationship_id,
                        scheduled_id,
                        author,
                        visibility,
                        _encrypted(
                            TalkingPoint,
                            "text",
                            point_public,
                            POINTS[position],
                            author_id=author,
                            relationship_id=relationship_id,
                            visibility=visibility,
                        ),
                        position,
                        accepted_at,
                    )
                )

        # Sessions, each with three notes and an action item.
        held_on = accepted_on + timedelta(days=rng.randrange(3, 10))
        while held_on <= last_day:
            session_id = ids[CoachingSession]
            ids[CoachingSession] += 1
            session_public = uuid.uuid4()
            created = _at(held_on, rng)
            session_rows.append(
                (
                    session_id,
                    session_public,
                    relationship_id,
                    held_on,
                    rng.choice([30, 45, 60]),
                    rng.choice(CoachingSession.Focus.values),
                    _encrypted(
                        CoachingSession,
                        "agenda",
                        session_public,
                        rng.choice(AGENDAS),
                        relationship_id=relationship_id,
                    ),
                    _encrypted(
                        CoachingSession,
                        "summary",
                        session_public,
                        rng.choice(SUMMARIES),
                        relationship_id=relationship_id,
                    ),
                    1,
                    coach,
                    created,
                    created,
                )
            )
            for author, visibility in [
                (coach, Note.Visibility.PRIVATE),
                (coach, Note.Visibility.SHARED),
                (coachee, rng.choice(Note.Visibility.values)),
            ]:
                note_public = uuid.uuid4()
                note_rows.append(
                    (
                        ids[Note],
                        note_public,
                        relationship_id,
                        session_id,
                        author,
                        visibility,
                        _encrypted(
                            Note,
                            "body",
                            note_public,
                            rng.choice(NOTES),
                            author_id=author,
                            relationship_id=relationship_id,
                            visibility=visibility,
                        ),
                        1,
                        created,
                        created,
                    )
                )
                ids[Note] += 1
            item_public = uuid.uuid4()
            due_on = held_on + timedelta(days=14)
            owner = rng.choice(ActionItem.Owner.values)
            # One item in ten had its due date moved by the coach a day after.
            edited = rng.random() < 0.1
            item_rows.append(
                (
                    ids[ActionItem],
                    item_public,
                    relationship_id,
                    session_id,
                    owner,
                    _encrypted(
                        ActionItem,
                        "text",
                        item_public,
                        rng.choice(ITEMS),
                        relationship_id=relationship_id,
                    ),
                    due_on,
                    _at(due_on, rng)
                    if due_on < today - timedelta(days=7) and rng.random() < 0.9
                    else None,
                    coach,
                    created,
                    2 if edited else 1,
                    coach if edited else None,
                    created + timedelta(days=1) if edited else None,
                    "due_on" if edited else "",
                )
            )
            ids[ActionItem] += 1
            every = 7 if historian else scale.session_every_days  # the historian: weekly
            held_on += timedelta(days=rng.randrange(every // 2, every * 3 // 2 + 1))

        # Weekly check-in rounds from a week after acceptance; the current one is open.
        trust = {coach: rng.uniform(2.5, 4.2), coachee: rng.uniform(2.3, 4.4)}
        drift = rng.uniform(-0.01, 0.015)
        opens_on = accepted_on + timedelta(days=7)
        week = 0
        while opens_on <= last_day:
            closes_on = opens_on + timedelta(days=ROUND_WINDOW_DAYS - 1)
            is_open = closes_on >= today and status == CoachingRelationship.Status.ACTIVE
            if closes_on >= today and not is_open:
                break
            round_id = ids[CheckInRound]
            ids[CheckInRound] += 1
            missed = {}
            for respondent, answer_rate in [(coach, 0.85), (coachee, 0.8)]:
                answered_on = opens_on + timedelta(days=rng.randrange(ROUND_WINDOW_DAYS))
                # The signed-in people leave the open round for the benchmark to load.
                if (
                    (is_open and n < scale.bench_coachees)
                    or answered_on > today
                    or (rng.random() > answer_rate)
                ):
                    missed[respondent] = True
                    continue
                missed[respondent] = False
                level = trust[respondent] + drift * week
                response_public = uuid.uuid4()
                comment = rng.choice(COMMENTS) if rng.random() < 0.15 else ""
                # Drawn in the same order as before, so a seed still makes the same data.
                answers = [
                    max(1, min(5, round(level + rng.uniform(-0.7, 0.7)))) for _ in DIMENSION_KEYS
                ]
                shared = rng.random() < 0.9
                response_rows.append(
                    (
                        response_public,
                        round_id,
                        respondent,
                        *answers,
                        _encrypted(
                            CheckInResponse,
                            "comment",
                            response_public,
                            comment,
                            respondent_id=respondent,
                            round_id=round_id,
                            shared=shared,
                        ),
                        shared,
                        min(_at(answered_on, rng), now),
                    )
                )
            round_rows.append(
                (
                    round_id,
                    uuid.uuid4(),
                    relationship_id,
                    opens_on,
                    closes_on,
                    end_of_day(closes_on, zoneinfo.ZoneInfo(TIME_ZONE)),
                    None if is_open else _at(closes_on + timedelta(days=1), rng),
                    missed[coach] and not is_open,
                    missed[coachee] and not is_open,
                    _at(opens_on, rng),
                )
            )
            opens_on += timedelta(days=7)
            week += 1

    rng = main_rng
    counts["relationships"] = _copy(
        CoachingRelationship,
        [
            "id",
            "public_id",
            "organisation",
            "coach",
            "coachee",
            "invited_email",
            "status",
            "checkin_cadence",
            "purpose_ciphertext",
            "created_at",
            "accepted_at",
            "ended_at",
            "coachee_schedules",
        ],
        relationship_rows,
        progress,
    )
    counts["scheduled_sessions"] = _copy(
        ScheduledSession,
        [
            "id",
            "public_id",
            "relationship",
            "starts_at",
            "slot_starts_at",
            "ends_at",
            "duration_minutes",
            "time_zone",
            "cadence",
            "series",
            "status",
            "created_by",
            "version",
            "created_at",
            "updated_at",
        ],
        scheduled_rows,
        progress,
    )
    counts["talking_points"] = _copy(
        TalkingPoint,
        [
            "public_id",
            "relationship",
            "scheduled",
            "author",
            "visibility",
            "text_ciphertext",
            "position",
            "created_at",
        ],
        point_rows,
        progress,
    )
    counts["sessions"] = _copy(
        CoachingSession,
        [
            "id",
            "public_id",
            "relationship",
            "held_on",
            "duration_minutes",
            "focus",
            "agenda_ciphertext",
            "summary_ciphertext",
            "version",
            "created_by",
            "created_at",
            "updated_at",
        ],
        session_rows,
        progress,
    )
    counts["notes"] = _copy(
        Note,
        [
            "id",
            "public_id",
            "relationship",
            "session",
            "author",
            "visibility",
            "body_ciphertext",
            "version",
            "created_at",
            "updated_at",
        ],
        note_rows,
        progress,
    )
    counts["action_items"] = _copy(
        ActionItem,
        [
            "id",
            "public_id",
            "relationship",
            "session",
            "owner",
            "text_ciphertext",
            "due_on",
            "done_at",
            "created_by",
            "created_at",
            "version",
            "changed_by",
            "changed_at",
            "changed_fields",
        ],
        item_rows,
        progress,
    )
    counts["checkin_rounds"] = _copy(
        CheckInRound,
        [
            "id",
            "public_id",
            "relationship",
            "opens_on",
            "closes_on",
            "closes_at",
            "closed_at",
            "coach_missed",
            "coachee_missed",
            "created_at",
        ],
        round_rows,
        progress,
    )
    counts["checkin_responses"] = _copy(
        CheckInResponse,
        [
            "public_id",
            "round",
            "respondent",
            *DIMENSION_KEYS,
            "comment_ciphertext",
            "shared",
            "submitted_at",
        ],
        response_rows,
        progress,
    )

    # The journal: a long one for the signed-in coach, shorter ones for others.
    writers = [(coach_id, scale.bench_reflections)] + [
        (uid, scale.reflections_each) for uid in coach_pool[: scale.reflection_writers]
    ]
    reflection_rows = []
    for author, how_many in writers:
        for k in range(how_many):
            reflection_public = uuid.uuid4()
            written = now - timedelta(days=span * k / max(how_many, 1), minutes=rng.randrange(600))
            reflection_rows.append(
                (
                    reflection_public,
                    author,
                    "",
                    _encrypted(
                        Reflection,
                        "body",
                        reflection_public,
                        rng.choice(REFLECTIONS),
                        author_id=author,
                    ),
                    1,
                    written,
                    written,
                )
            )
    counts["reflections"] = _copy(
        Reflection,
        ["public_id", "author", "prompt", "body_ciphertext", "version", "created_at", "updated_at"],
        reflection_rows,
        progress,
    )

    with connection.cursor() as cursor:
        for statement in connection.ops.sequence_reset_sql(
            no_style(),
            [
                User,
                EmailAddress,
                Membership,
                CoachingRelationship,
                CoachingSession,
                Note,
                ActionItem,
                ScheduledSession,
                CheckInRound,
                CheckInResponse,
                Reflection,
            ],
        ):
            cursor.execute(statement)

    step = time.monotonic()
    rollups.rebuild(organisation)
    if progress:
        print(f"  rollups rebuilt in {time.monotonic() - step:.1f}s", file=sys.stderr)
    # Fresh tables have no planner statistics until autovacuum comes round; production's do.
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    return Seeded(organisation.pk, counts, math.floor((time.monotonic() - started) * 10) / 10)
