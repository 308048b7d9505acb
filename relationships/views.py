"""Thin views: each fetches through a user-scoped queryset (not yours is a 404), hands
the use case to services.py and renders one page or one of its partials."""

import uuid
from datetime import datetime
from functools import lru_cache

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import get_script_prefix, get_urlconf, reverse
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.utils.dateformat import format as format_date
from django.utils.dates import MONTHS, MONTHS_3
from django.utils.translation import get_language
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import HttpResponseClientRedirect

from accounts.models import User
from config.access import scoped_get_or_404
from config.forms import apply_validation_error, is_uuid
from reflections import selectors as checkin_selectors
from reflections.forms import CadenceForm
from reflections.models import zone_of
from relationships import selectors, services
from relationships.calendar import calendar_bytes, feed_events, feed_opens, session_calendar
from relationships.forms import (
    ActionItemEditForm,
    ActionItemForm,
    NoteEditForm,
    NoteForm,
    RelationshipInviteForm,
    RenderedOnce,
    RescheduleForm,
    ScheduleForm,
    SessionEditForm,
    SessionForm,
    TalkingPointForm,
    action_item_form_html,
)
from relationships.models import (
    ActionItem,
    CoachingRelationship,
    CoachingSession,
    Note,
    NoteDraft,
    ScheduledSession,
    TalkingPoint,
)
from relationships.prompts import (
    AGENDA_PROMPTS,
    COACH_PRIVATE_PROMPTS,
    agenda_for,
    is_template_agenda,
)

DETAIL = "relationships/relationship_detail.html"
SESSION_DETAIL = "relationships/session_detail.html"
# Answered check-in rounds the relationship page reads: the open one and the latest reveal
# (for the bias prompts) are among them. Its chart is a region htmx loads from the trend
# page, which reads every round (issue 15: reading and drawing 26 rounds here was a third
# of the page's cost).
RECENT_ROUNDS = 4


def _relationship(request, public_id) -> CoachingRelationship:
    relationship = selectors.relationship_of(request.user, public_id)
    if relationship is not None:
        return relationship
    # Not theirs, or no such relationship: the same 404, and the refusal logged.
    return scoped_get_or_404(
        request,
        CoachingRelationship.objects.for_member(request.user).with_people(),
        public_id=public_id,
    )


def _session(request, public_id) -> CoachingSession:
    return scoped_get_or_404(
        request,
        CoachingSession.objects.visible_to(request.user).select_related(
            "relationship__coach", "relationship__coachee", "relationship__organisation"
        ),
        public_id=public_id,
    )


def _optional_session(request, relationship, public_id):
    """A session named in a form must be one the person can see, of this relationship."""
    if not public_id:
        return None
    if not is_uuid(public_id):
        raise Http404("No such session.")
    return scoped_get_or_404(
        request,
        CoachingSession.objects.visible_to(request.user).filter(relationship=relationship),
        public_id=public_id,
    )


def _error_text(error: ValidationError) -> str:
    return " ".join(error.messages)


def _render(request, template, context, *, partial=None, status=200):
    if partial and request.htmx:
        template = f"{template}#{partial}"
    response = render(request, template, context, status=status)
    patch_vary_headers(response, ["HX-Request"])
    return response


def _back_to(relationship, session=None, anchor=""):
    if session is not None:
        return reverse("session_detail", args=[session.public_id]) + anchor
    return reverse("relationship_detail", args=[relationship.public_id]) + anchor


# A public id in a reversed URL, replaced by each row's: one `reverse` per list instead of
# one or two per row (each costs more than the row's other markup; issue 15).
_ANY_ID = "00000000-0000-0000-0000-000000000000"


def _day(value, months: dict[int, str]) -> str:
    """`|date:"j M Y"` for a date, or for an instant in the current time zone, without
    the `date` filter's cost (~25 µs a call): the same month names (`months`, from
    _month_names)."""
    if isinstance(value, datetime):
        value = timezone.localtime(value)
    return f"{value.day} {months[value.month]} {value.year}"


_MONTH_NAMES: dict[str, tuple[dict[int, str], dict[int, str]]] = {}


def _month_names() -> tuple[dict[int, str], dict[int, str]]:
    """The short month names as `|date:"M"` writes them (MONTHS_3, title-cased) and the
    full ones (MONTHS), in the active language, translated once per process: a lazy
    month name looks its translation up at every use (~20 µs), most of a row's labels."""
    language = get_language()
    names = _MONTH_NAMES.get(language)
    if names is None:
        names = _MONTH_NAMES[language] = (
            {number: str(name).title() for number, name in MONTHS_3.items()},
            {number: str(name) for number, name in MONTHS.items()},
        )
    return names


def _with_labels(*, notes=(), items=(), viewer=None, relationship=None):
    """The dates and links the notes and action items regions show
    (jinja2/relationships/notes.html and actions.html), formatted once per row. With the
    `viewer`, each edited item's latest change in words (_change_label), with the names of
    `relationship` (the items' own, in hand) or of each item's relationship, loaded with
    its two people."""
    months = _month_names()[0] if notes or items else {}
    if notes:
        edit_url = reverse("note_edit", args=[_ANY_ID])
        delete_url = reverse("note_delete", args=[_ANY_ID])
        for note in notes:
            public_id = str(note.public_id)
            note.created_label = (
                f"{_day(note.created_at, months)}, {timezone.localtime(note.created_at):%H:%M}"
            )
            note.edit_url = edit_url.replace(_ANY_ID, public_id)
            note.delete_url = delete_url.replace(_ANY_ID, public_id)
    if items:
        done_url = reverse("action_item_done", args=[_ANY_ID])
        edit_url = reverse("action_item_edit", args=[_ANY_ID])
        for item in items:
            public_id = str(item.public_id)
            item.done_url = done_url.replace(_ANY_ID, public_id)
            item.edit_url = edit_url.replace(_ANY_ID, public_id)
            item.due_label = _day(item.due_on, months) if item.due_on else ""
            item.done_label = _day(item.done_at, months) if item.done_at else ""
            item.change_label = (
                _change_label(item, viewer, relationship or item.relationship)
                if viewer is not None and item.changed_fields
                else ""
            )


def _owner_name(relationship, owner: str, viewer) -> str:
    if owner == ActionItem.Owner.COACH:
        return "you" if relationship.coach_id == viewer.pk else relationship.coach.name
    return "you" if relationship.coachee_id == viewer.pk else relationship.coachee_label


def _change_label(item, viewer, relationship) -> str:
    """An item's latest edit in words, for both people: "Alex moved the due date to
    12 Dec", "You changed the text and gave it to Sam". Plain text (the template
    escapes the names in it)."""
    if item.changed_by_id == viewer.pk:
        who = "You"
    elif item.changed_by_id == relationship.coach_id:
        who = relationship.coach.name
    elif item.changed_by_id is not None and item.changed_by_id == relationship.coachee_id:
        who = relationship.coachee_label
    else:
        who = "Someone"  # an account deleted since
    changed = item.changed_fields.split(",")
    parts = []
    if "text" in changed:
        parts.append("changed the text")
    if "owner" in changed:
        parts.append(f"gave it to {_owner_name(relationship, item.owner, viewer)}")
    if "due_on" in changed:
        if item.due_on:
            parts.append(f"moved the due date to {_day(item.due_on, _month_names()[0])}")
        else:
            parts.append("removed the due date")
    if len(parts) > 1:
        parts[-2:] = [f"{parts[-2]} and {parts[-1]}"]
    return f"{who} {', '.join(parts)}"


def _with_session_labels(sessions):
    """The day and link each session of the relationship page's list shows
    (jinja2/relationships/detail.html): `|date:"j F Y"` and `{% url %}` formatted once per
    row, as _with_labels does for the notes."""
    detail_url = reverse("session_detail", args=[_ANY_ID])
    months = _month_names()[1] if sessions else {}
    for session in sessions:
        day = session.held_on
        session.held_on_label = f"{day.day} {months[day.month]} {day.year}"
        session.detail_url = detail_url.replace(_ANY_ID, str(session.public_id))


def _note_form(request, relationship, *, data=None, initial=None, edit=False):
    other = relationship.other_party_name(request.user)
    form_class = NoteEditForm if edit else NoteForm
    form = form_class(data, initial=initial, other_party_name=other)
    return _with_autosave(form, reverse("note_draft", args=[relationship.public_id]))


def _with_autosave(form, draft_url: str):
    # Autosave: while the person types, htmx keeps a private draft of the form.
    form.fields["body"].widget.attrs.update(
        {
            "hx-post": draft_url,
            "hx-trigger": "input changed delay:1500ms",
            "hx-include": "closest form",
            "hx-target": "next .draft-status",
            "hx-swap": "innerHTML",
        }
    )
    return form


# The empty forms of the relationship and session pages, rendered once per process
# (relationships.forms.RenderedOnce): the same HTML as _note_form(request, relationship),
# ActionItemForm(relationship=relationship) and CadenceForm(initial=...), each request's
# names, links, dates and one-time tokens in place.
_blank_note_form = RenderedOnce(
    lambda other, draft_url, token: _with_autosave(
        NoteForm(initial={"client_token": token}, other_party_name=other), draft_url
    ),
    names=["other"],
    plain=["draft_url", "token"],
)
_blank_cadence_forms = {
    cadence: RenderedOnce(lambda cadence=cadence: CadenceForm(initial={"cadence": cadence}))
    for cadence in CoachingRelationship.Cadence.values
}


def _note_form_html(request, relationship):
    """`_note_form(request, relationship)`'s HTML (an empty form), rendered once."""
    return _blank_note_form(
        other=relationship.other_party_name(request.user),
        draft_url=reverse("note_draft", args=[relationship.public_id]),
        token=str(uuid.uuid4()),
    )


def _cadence_form_html(relationship):
    cadence = relationship.checkin_cadence
    if cadence in _blank_cadence_forms:
        return _blank_cadence_forms[cadence]()
    return CadenceForm(initial={"cadence": cadence})


# --- Relationships -------------------------------------------------------------------


@require_GET
def relationship_list(request):
    return render(
        request, "relationships/relationship_list.html", selectors.relationships_for(request.user)
    )


@require_http_methods(["GET", "POST"])
@sensitive_post_parameters()
def relationship_invite(request):
    if not hasattr(request.user, "membership"):
        messages.error(request, "Join an organisation before inviting a coachee.")
        return redirect("home")
    form = RelationshipInviteForm(request.POST or None, coach=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            relationship = services.relationship_invite(
                coach=request.user,
                coachee=form.cleaned_data["coachee"],
                email=form.cleaned_data["email"],
                purpose=form.cleaned_data["purpose"],
                site_url=request.build_absolute_uri("/"),
            )
        except ValidationError as error:
            apply_validation_error(form, error)
        else:
            if relationship.invitation and relationship.invitation.awaiting_approval:
                messages.success(
                    request,
                    f"{relationship.coachee_label} is outside your organisation's email "
                    "domains, so an HR admin approves the invitation before it is sent. "
                    "You'll see their answer here.",
                )
            else:
                messages.success(
                    request,
                    f"Invitation sent to {relationship.coachee_label}. "
                    "You'll see their answer here.",
                )
            return redirect("relationship_detail", public_id=relationship.public_id)
    return render(request, "relationships/relationship_invite.html", {"form": form})


@require_GET
def relationship_detail(request, public_id):
    relationship = _relationship(request, public_id)
    started = relationship.status not in CoachingRelationship.NOT_STARTED_STATUSES
    # A long history shows its latest part here, with links to all of it.
    recent = None if request.GET.get("history") == "all" else selectors.RECENT
    checkins = (
        checkin_selectors.checkin_summary(relationship, request.user, last=RECENT_ROUNDS)
        if started
        else None
    )
    context = {
        "checkins": checkins,
        "cadence_form": _cadence_form_html(relationship),
        "relationship": relationship,
        "role": relationship.role_of(request.user),
        "other_name": relationship.other_party_name(request.user),
        "note_form": _note_form_html(request, relationship),
        "action_form": action_item_form_html(relationship),
        **selectors.relationship_page(relationship, request.user, recent=recent),
    }
    context["reflection_prompts"] = checkin_selectors.relationship_prompts(
        relationship, request.user, checkins, has_sessions=bool(context["sessions"])
    )
    if (
        checkins
        and not checkins.current
        and relationship.status == CoachingRelationship.Status.ACTIVE
    ):
        # "The next one opens on Monday 7 December", not "every two weeks".
        context["next_checkin_on"] = checkin_selectors.next_checkin_on(relationship)
    _with_labels(
        notes=context["notes"],
        items=[*context["open_items"], *context["done_items"]],
        viewer=request.user,
        relationship=relationship,
    )
    context["may_schedule"] = services.schedule_refusal(relationship, request.user) is None
    context["next_session"] = _next_session(relationship)
    context["waiting_points"] = (
        selectors.waiting_points(request.user, relationship)
        if relationship.has_waiting_points
        else ()
    )
    context["links"] = _page_links(relationship)
    _with_session_labels(context["sessions"])
    # What is due now goes first on the page, above the history.
    context["overdue_items"] = [
        item
        for item in context["open_items"]
        if item.is_overdue and item.owner == context["role"] and relationship.is_writable
    ]
    return _render(request, DETAIL, context)


@require_POST
def relationship_respond(request, public_id):
    relationship = _relationship(request, public_id)
    answer = request.POST.get("answer")
    if answer not in {"accept", "decline"}:
        messages.error(request, "Choose Accept or Decline.")
        return redirect("relationship_detail", public_id=relationship.public_id)
    accept = answer == "accept"
    try:
        services.relationship_respond(relationship=relationship, user=request.user, accept=accept)
    except (ValidationError, PermissionError) as error:
        messages.error(
            request, getattr(error, "messages", ["You can't answer this invitation."])[0]
        )
    else:
        messages.success(
            request,
            f"You're now working with {relationship.coach.name}."
            if accept
            else "You declined the invitation. Nothing more is shared.",
        )
    return redirect("relationship_detail", public_id=relationship.public_id)


@require_POST
def relationship_transition(request, public_id):
    relationship = _relationship(request, public_id)
    action = request.POST.get("action", "")
    try:
        relationship = services.relationship_transition(
            relationship=relationship, user=request.user, action=action
        )
    except ValidationError as error:
        messages.error(request, _error_text(error))
    else:
        messages.success(
            request, f"The relationship is now {relationship.get_status_display().lower()}."
        )
    return redirect("relationship_detail", public_id=relationship.public_id)


# --- Scheduling ---------------------------------------------------------------------


def _scheduled(request, public_id) -> ScheduledSession:
    scheduled = selectors.scheduled_of(request.user, public_id)
    if scheduled is None:  # a 404, logged as a refusal if it exists but is not theirs
        return scoped_get_or_404(
            request, ScheduledSession.objects.visible_to(request.user), public_id=public_id
        )
    return scheduled


def _time_zone_name(user) -> str:
    return zone_of(user).key


@require_http_methods(["GET", "POST"])
def session_schedule(request, public_id):
    relationship = _relationship(request, public_id)
    refusal = services.schedule_refusal(relationship, request.user)
    if refusal:
        messages.error(request, refusal)
        return redirect("relationship_detail", public_id=relationship.public_id)
    zone = _time_zone_name(request.user)
    if request.method == "POST":
        form = ScheduleForm(request.POST, time_zone=zone)
        if form.is_valid():
            try:
                scheduled = services.session_schedule(
                    relationship=relationship,
                    user=request.user,
                    site_url=request.build_absolute_uri("/"),
                    **form.cleaned_data,
                )
            except ValidationError as error:
                apply_validation_error(form, error)
            else:
                messages.success(
                    request,
                    f"Session scheduled. {relationship.other_party_name(request.user)} "
                    "will get an email.",
                )
                return redirect("scheduled_detail", public_id=scheduled.public_id)
    else:
        form = ScheduleForm(time_zone=zone)
    return render(
        request,
        "relationships/schedule_form.html",
        {
            "relationship": relationship,
            "form": form,
            "waiting": selectors.waiting_points(request.user, relationship),
        },
    )


def _scheduled_context(request, scheduled, *, move_form=None, point_form=None):
    relationship = scheduled.relationship
    zone = zone_of(request.user)
    start, end = scheduled.starts_at.astimezone(zone), scheduled.ends_at.astimezone(zone)
    if move_form is None and scheduled.status == ScheduledSession.Status.SCHEDULED:
        move_form = RescheduleForm(
            initial={
                "day": start.date(),
                "start_time": start.time(),
                "duration_minutes": scheduled.duration_minutes,
                "version": scheduled.version,
            },
            time_zone=zone.key,
        )
    return {
        "relationship": relationship,
        "scheduled": scheduled,
        "role": relationship.role_of(request.user),
        "other_name": relationship.other_party_name(request.user),
        "when": f"{format_date(start, 'l j F Y')}, {start:%H:%M}–{end:%H:%M}",
        "time_zone": zone.key,
        "may_schedule": services.schedule_refusal(relationship, request.user) is None,
        "started": scheduled.starts_at <= timezone.now(),
        "move_form": move_form,
        **_agenda_context(request, scheduled, point_form=point_form),
    }


# The focus prompts, offered on an agenda as optional suggestions.
_SUGGESTIONS = [
    (CoachingSession.Focus(focus).label, prompts)
    for focus, prompts in AGENDA_PROMPTS.items()
    if prompts
]


def _point_url_patterns() -> tuple[str, str, str]:
    """A talking point's three action URLs with a stand-in id (one reverse each per
    agenda, not per point)."""
    return tuple(
        reverse(name, args=[_ANY_ID])
        for name in ("talking_point_discussed", "talking_point_move", "talking_point_delete")
    )


def _agenda_context(request, scheduled, *, point_form=None):
    """The agenda region of a scheduled session's page: its talking points the person may
    see (shared ones, and their own private ones), the relationship's open action items,
    and the focus prompts as suggestions."""
    user, relationship = request.user, scheduled.relationship
    months = _month_names()[0]
    points = selectors.agenda_points(user, scheduled)
    other_name = relationship.other_party_name(user)
    discussed_url, move_url, delete_url = _point_url_patterns()
    for point in points:
        public_id = str(point.public_id)
        point.author_label = "You" if point.author_id == user.pk else other_name
        point.carried_label = _day(point.carried_from, months) if point.carried_from else ""
        point.discussed_url = discussed_url.replace(_ANY_ID, public_id)
        point.move_url = move_url.replace(_ANY_ID, public_id)
        point.delete_url = delete_url.replace(_ANY_ID, public_id)
    agenda_open = scheduled.status == ScheduledSession.Status.SCHEDULED and relationship.is_writable
    items = []
    if scheduled.status == ScheduledSession.Status.SCHEDULED:
        items = selectors.open_items(user, relationship)
        _with_labels(items=items, viewer=user, relationship=relationship)
        for item in items:
            item.owner_label = _owner_name(relationship, item.owner, user)
    if point_form is None and agenda_open:
        point_form = TalkingPointForm(other_party_name=other_name)
    return {
        "points": points,
        "other_name": other_name,
        "add_url": reverse("talking_point_add", args=[scheduled.public_id]),
        "agenda_open": agenda_open,
        "point_form": point_form,
        "agenda_items": items,
        "suggestions": _SUGGESTIONS if agenda_open else [],
        "new_token": uuid.uuid4,
    }


def _agenda_response(request, scheduled, *, point_form=None, status=200):
    """After a change to the agenda: its region for htmx, else back to the page; a form
    with errors is shown again, with what was typed."""
    if not request.htmx and point_form is None:
        return redirect(reverse("scheduled_detail", args=[scheduled.public_id]) + "#agenda")
    return _render(
        request,
        "relationships/scheduled_detail.html",
        _scheduled_context(request, scheduled, point_form=point_form),
        partial="agenda",
        status=status,
    )


def _point(request, public_id, *, own=False) -> TalkingPoint:
    points = TalkingPoint.objects.visible_to(request.user).select_related(
        "scheduled__relationship__coach", "scheduled__relationship__coachee", "relationship"
    )
    if own:
        points = points.filter(author=request.user)
    return scoped_get_or_404(request, points, public_id=public_id)


@require_POST
@sensitive_post_parameters()
def talking_point_add(request, public_id):
    scheduled = _scheduled(request, public_id)
    form = TalkingPointForm(
        request.POST, other_party_name=scheduled.relationship.other_party_name(request.user)
    )
    if form.is_valid():
        try:
            services.talking_point_add(scheduled=scheduled, user=request.user, **form.cleaned_data)
        except ValidationError as error:
            if not hasattr(error, "error_dict"):
                # Not about the words (the agenda closed, the relationship ended): said
                # above the agenda, which no longer offers the form.
                messages.error(request, _error_text(error))
                return _agenda_response(request, scheduled)
            apply_validation_error(form, error)
        else:
            messages.success(request, "Added to the agenda.")
            return _agenda_response(request, scheduled)
    return _agenda_response(request, scheduled, point_form=form)


def _agenda_change(request, point, change, done_message) -> HttpResponse:
    try:
        change()
    except ValidationError as error:
        messages.error(request, _error_text(error))
    else:
        if done_message:
            messages.success(request, done_message)
    scheduled = point.scheduled
    if scheduled is None:
        # A point waiting for the next session (its own closed with none after it): the
        # relationship page lists it. A whole page, not a region, for htmx.
        url = reverse("relationship_detail", args=[point.relationship.public_id]) + "#schedule"
        if request.htmx:
            return HttpResponseClientRedirect(url)
        return redirect(url)
    return _agenda_response(request, scheduled)


@require_POST
def talking_point_discussed(request, public_id):
    point = _point(request, public_id)
    discussed = request.POST.get("discussed") == "1"
    return _agenda_change(
        request,
        point,
        lambda: services.talking_point_set_discussed(
            point=point, user=request.user, discussed=discussed
        ),
        "Marked discussed." if discussed else "Marked not discussed yet.",
    )


@require_POST
def talking_point_move(request, public_id):
    point = _point(request, public_id)
    up = request.POST.get("direction") != "down"
    return _agenda_change(
        request,
        point,
        lambda: services.talking_point_move(point=point, user=request.user, up=up),
        "",
    )


@require_POST
def talking_point_delete(request, public_id):
    point = _point(request, public_id, own=True)
    return _agenda_change(
        request,
        point,
        lambda: services.talking_point_delete(point=point, user=request.user),
        "Talking point removed.",
    )


@require_GET
def scheduled_detail(request, public_id):
    scheduled = _scheduled(request, public_id)
    return render(
        request, "relationships/scheduled_detail.html", _scheduled_context(request, scheduled)
    )


@require_POST
def scheduled_move(request, public_id):
    scheduled = _scheduled(request, public_id)
    refusal = services.schedule_refusal(scheduled.relationship, request.user)
    if refusal:
        messages.error(request, refusal)
        return redirect("scheduled_detail", public_id=scheduled.public_id)
    form = RescheduleForm(request.POST, time_zone=_time_zone_name(request.user))
    status = 200
    if form.is_valid():
        data = form.cleaned_data
        try:
            services.session_reschedule(
                scheduled=scheduled,
                user=request.user,
                day=data["day"],
                start_time=data["start_time"],
                duration_minutes=data["duration_minutes"],
                expected_version=data["version"],
                site_url=request.build_absolute_uri("/"),
            )
        except services.ConflictError:
            scheduled.refresh_from_db()
            status = 409
            form.add_error(
                None,
                "This session was moved or cancelled since you opened it. Its time now is "
                "shown above: reload to move it again.",
            )
        except ValidationError as error:
            apply_validation_error(form, error)
        else:
            messages.success(
                request,
                f"Session moved. {scheduled.relationship.other_party_name(request.user)} "
                "will get an email.",
            )
            return redirect("scheduled_detail", public_id=scheduled.public_id)
    return render(
        request,
        "relationships/scheduled_detail.html",
        _scheduled_context(request, scheduled, move_form=form),
        status=status,
    )


@require_POST
def scheduled_cancel(request, public_id):
    scheduled = _scheduled(request, public_id)
    relationship = scheduled.relationship
    refusal = services.schedule_refusal(relationship, request.user)
    if refusal:
        messages.error(request, refusal)
        return redirect("scheduled_detail", public_id=scheduled.public_id)
    whole_series = request.POST.get("series") == "all"
    try:
        services.session_cancel(
            scheduled=scheduled,
            user=request.user,
            whole_series=whole_series,
            site_url=request.build_absolute_uri("/"),
        )
    except ValidationError as error:
        messages.error(request, _error_text(error))
        return redirect("scheduled_detail", public_id=scheduled.public_id)
    messages.success(
        request,
        ("Series cancelled." if whole_series and scheduled.series else "Session cancelled.")
        + f" {relationship.other_party_name(request.user)} will get an email.",
    )
    return redirect("relationship_detail", public_id=relationship.public_id)


@require_GET
def scheduled_calendar(request, public_id):
    scheduled = _scheduled(request, public_id)
    url = request.build_absolute_uri(reverse("scheduled_detail", args=[scheduled.public_id]))
    body = session_calendar(
        scheduled,
        other_name=scheduled.relationship.other_party_name(request.user),
        url=url,
    )
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="rapport-session.ics"'
    return response


@login_not_required  # a calendar app cannot sign in: the address is the key
@require_GET
def calendar_feed(request, person, token):
    """A person's private calendar feed: every upcoming session, times and names only."""
    user = User.objects.filter(public_id=person, is_active=True).first()
    if user is None or not feed_opens(user, token):
        raise Http404("No such calendar.")
    now = timezone.now()
    upcoming = (
        ScheduledSession.objects.visible_to(user)
        .upcoming(now)
        .select_related("relationship__coach", "relationship__coachee")
        .order_by("starts_at", "pk")
    )
    events = feed_events(
        upcoming,
        name_of=lambda scheduled: scheduled.relationship.other_party_name(user),
        url_of=lambda scheduled: request.build_absolute_uri(
            reverse("scheduled_detail", args=[scheduled.public_id])
        ),
        now=now,
    )
    response = HttpResponse(calendar_bytes(events), content_type="text/calendar; charset=utf-8")
    response["Cache-Control"] = "private, max-age=0"
    response["X-Robots-Tag"] = "noindex"
    return response


@require_POST
def schedule_permission(request, public_id):
    relationship = _relationship(request, public_id)
    allow = request.POST.get("coachee_schedules") == "1"
    try:
        services.relationship_schedulers(
            relationship=relationship, user=request.user, coachee_schedules=allow
        )
    except ValidationError as error:
        messages.error(request, _error_text(error))
    else:
        messages.success(
            request,
            f"{relationship.coachee_label} can schedule sessions too."
            if allow
            else "Only you schedule sessions now.",
        )
    return redirect(reverse("relationship_detail", args=[relationship.public_id]) + "#schedule")


# --- Sessions -----------------------------------------------------------------------


def _session_form_context(request, relationship, form, *, session=None):
    focus = form["focus"].value() or ""
    is_coach = relationship.role_of(request.user) == "coach"
    return {
        "relationship": relationship,
        "session": session,
        "form": form,
        "coach_prompts": COACH_PRIVATE_PROMPTS.get(focus, []) if is_coach else [],
    }


@require_http_methods(["GET", "POST"])
@sensitive_post_parameters()
def session_create(request, public_id):
    relationship = _relationship(request, public_id)
    if request.method == "GET" or "refresh_agenda" in request.POST:
        # A GET reads only the focus: typed text travels in POST bodies, never in URLs
        # (which end up in access logs).
        data = request.POST if request.method == "POST" else {"focus": request.GET.get("focus")}
        first = not relationship.sessions.exists()
        default_focus = (
            CoachingSession.Focus.RECAST_THE_PAST
            if first
            else CoachingSession.Focus.MASTER_THE_MOMENT
        )
        focus = data.get("focus") or default_focus
        if focus not in CoachingSession.Focus.values:
            focus = default_focus
        typed = data.get("agenda", "")
        agenda = agenda_for(focus) if is_template_agenda(typed) else typed
        token = data.get("client_token", "")
        scheduled = _loggable_scheduled(
            request, relationship, data.get("scheduled") or request.GET.get("scheduled")
        )
        held_on, duration = timezone.localdate(), 45
        if scheduled is not None:  # "Log this session": when it was scheduled
            held_on = timezone.localtime(scheduled.starts_at).date()
            duration = scheduled.duration_minutes
            if request.method == "GET":
                # Its shared talking points, as the agenda both people will read: never a
                # private one, which is its author's alone.
                shared = scheduled.talking_points.filter(visibility=TalkingPoint.Visibility.SHARED)
                agenda = "\n".join(f"- {point.text}" for point in shared) or agenda
        initial = {
            "focus": focus,
            "agenda": agenda,
            "held_on": data.get("held_on") or held_on,
            "duration_minutes": data.get("duration_minutes") or duration,
            "summary": data.get("summary", ""),
            "client_token": token if is_uuid(token) else uuid.uuid4(),
        }
        form = SessionForm(initial=initial)
        context = _session_form_context(request, relationship, form)
        context["first_session"] = first
        context["scheduled"] = scheduled
        return _render(request, "relationships/session_form.html", context, partial="agenda")
    form = SessionForm(request.POST)
    scheduled = _loggable_scheduled(request, relationship, request.POST.get("scheduled"))
    if form.is_valid():
        try:
            session = services.session_create(
                relationship=relationship,
                user=request.user,
                scheduled=scheduled,
                **form.cleaned_data,
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, "Session logged.")
            return redirect("session_detail", public_id=session.public_id)
    context = _session_form_context(request, relationship, form)
    context["scheduled"] = scheduled
    return render(request, "relationships/session_form.html", context)


# The relationship page's links to its own actions, found once per process with a stand-in
# id and given each page's (a `url()` in the template cost ~20 µs a use, and the page has a
# dozen; issue 15).
_PAGE_LINKS = (
    "relationship_detail",
    "relationship_respond",
    "relationship_transition",
    "session_create",
    "session_schedule",
    "schedule_permission",
    "prompt_dismiss",
    "checkin_cadence",
    "relationship_trend",
)


@lru_cache(maxsize=16)
def _page_link_patterns(script_prefix: str, urlconf: str) -> dict[str, str]:
    return {name: reverse(name, args=[_ANY_ID], urlconf=urlconf) for name in _PAGE_LINKS}


def _page_links(relationship) -> dict[str, str]:
    patterns = _page_link_patterns(get_script_prefix(), get_urlconf() or settings.ROOT_URLCONF)
    public_id = str(relationship.public_id)
    return {name: link.replace(_ANY_ID, public_id) for name, link in patterns.items()}


def _next_session(relationship) -> dict | None:
    """The relationship page's "Next session", from its own read (relationship_of)."""
    starts_at = getattr(relationship, "next_session_at", None)
    if starts_at is None:
        return None
    local = timezone.localtime(starts_at)
    return {
        "label": f"{format_date(local, 'l j F')}, {local:%H:%M}",
        "url": reverse("scheduled_detail", args=[relationship.next_session_id]),
        "over": starts_at < timezone.now(),
    }


def _loggable_scheduled(request, relationship, public_id) -> ScheduledSession | None:
    """The scheduled session a logged session is for (its "Log this session"), if it is
    this relationship's and has none logged yet; anything else is simply not linked."""
    if not public_id or not is_uuid(public_id):
        return None
    return (
        ScheduledSession.objects.visible_to(request.user)
        .filter(
            relationship=relationship,
            public_id=public_id,
            session__isnull=True,
            status__in=[ScheduledSession.Status.SCHEDULED, ScheduledSession.Status.HELD],
        )
        .first()
    )


@require_GET
def session_detail(request, public_id):
    # Not `_session`: this page shows nothing of the organisation, so it is not joined.
    session = selectors.session_of(request.user, public_id) or scoped_get_or_404(
        request,
        CoachingSession.objects.visible_to(request.user).select_related(
            "relationship__coach", "relationship__coachee"
        ),
        public_id=public_id,
    )
    relationship = session.relationship
    context = {
        "relationship": relationship,
        "session": session,
        # Formatted and decrypted once here: the template shows each twice.
        "session_date": format_date(session.held_on, "j F Y"),
        "session_agenda": session.agenda,
        "session_summary": session.summary,
        "role": relationship.role_of(request.user),
        "other_name": relationship.other_party_name(request.user),
        "note_form": _note_form_html(request, relationship),
        "action_form": action_item_form_html(relationship),
        **selectors.session_page(session, request.user, relationship),
    }
    _with_labels(
        notes=context["notes"],
        items=context["items"],
        viewer=request.user,
        relationship=relationship,
    )
    return _render(request, SESSION_DETAIL, context)


@require_http_methods(["GET", "POST"])
@sensitive_post_parameters()
def session_edit(request, public_id):
    session = _session(request, public_id)
    relationship = session.relationship
    status = 200
    if request.method == "POST":
        form = SessionEditForm(request.POST)
        if form.is_valid():
            data = dict(form.cleaned_data)
            data.pop("client_token", None)
            try:
                services.session_update(
                    session=session,
                    user=request.user,
                    expected_version=data.pop("version"),
                    **data,
                )
            except services.ConflictError:
                session.refresh_from_db()
                status = 409
                form.add_error(
                    None,
                    "This session was changed in another tab or by "
                    f"{relationship.other_party_name(request.user)} since you opened it. Your "
                    "text is still below; the latest saved summary is shown beside it. Copy "
                    "what you need, then reload to edit the latest version.",
                )
            except ValidationError as error:
                form.add_error(None, error)
            else:
                messages.success(request, "Session saved.")
                return redirect("session_detail", public_id=session.public_id)
    else:
        form = SessionEditForm(
            initial={
                "held_on": session.held_on,
                "duration_minutes": session.duration_minutes,
                "focus": session.focus,
                "agenda": session.agenda,
                "summary": session.summary,
                "version": session.version,
            }
        )
    context = _session_form_context(request, relationship, form, session=session)
    context["conflict"] = status == 409
    return render(request, "relationships/session_form.html", context, status=status)


# --- Notes ------------------------------------------------------------------------


def _notes_region(request, relationship, session, form):
    if session is not None:
        notes = selectors.session_notes(session, request.user, relationship)
    else:
        notes = selectors.relationship_notes(relationship, request.user)
    _with_labels(notes=notes)
    context = {
        "relationship": relationship,
        "session": session,
        "notes": notes,
        "note_form": form,
        "other_name": relationship.other_party_name(request.user),
    }
    return _render(request, DETAIL, context, partial="notes")


@require_http_methods(["GET", "POST"])
@sensitive_post_parameters()
def note_create(request, public_id):
    relationship = _relationship(request, public_id)
    if request.method == "GET":
        # The page for writing a note on its own: with JavaScript off, or to continue a draft.
        session_id = request.GET.get("session", "")
        initial, draft = {}, None
        if "draft" in request.GET:
            draft_key = request.GET["draft"]
            draft = scoped_get_or_404(
                request,
                NoteDraft.objects.visible_to(request.user).filter(relationship=relationship),
                key=draft_key if is_uuid(draft_key) else uuid.uuid4(),
            )
            initial = {"body": draft.body, "client_token": draft.key}
            if draft.session_id:
                session_id = draft.session.public_id
        session = _optional_session(request, relationship, session_id)
        form = _note_form(request, relationship, initial=initial)
        return render(
            request,
            "relationships/note_form.html",
            {"relationship": relationship, "session": session, "form": form, "draft": draft},
        )
    session = _optional_session(request, relationship, request.POST.get("session"))
    form = _note_form(request, relationship, data=request.POST)
    if form.is_valid():
        try:
            services.note_create(
                author=request.user, relationship=relationship, session=session, **form.cleaned_data
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, "Note saved.")
            if request.htmx:
                return _notes_region(
                    request, relationship, session, _note_form(request, relationship)
                )
            return redirect(_back_to(relationship, session, "#notes"))
    if request.htmx:
        return _notes_region(request, relationship, session, form)
    return render(
        request,
        "relationships/note_form.html",
        {"relationship": relationship, "session": session, "form": form},
    )


@require_http_methods(["GET", "POST"])
@sensitive_post_parameters()
def note_edit(request, public_id):
    note = scoped_get_or_404(
        request,
        Note.objects.editable_by(request.user).select_related(
            "relationship__coach", "relationship__coachee", "session"
        ),
        public_id=public_id,
    )
    relationship = note.relationship
    status = 200
    if request.method == "POST":
        form = _note_form(request, relationship, data=request.POST, edit=True)
        if form.is_valid():
            try:
                services.note_update(
                    note=note,
                    author=request.user,
                    body=form.cleaned_data["body"],
                    visibility=form.cleaned_data["visibility"],
                    expected_version=form.cleaned_data["version"],
                    draft_key=form.cleaned_data["client_token"],
                )
            except services.ConflictError:
                note.refresh_from_db()
                status = 409
                form.add_error(
                    None,
                    "This note was changed in another tab or window since you opened it. "
                    "Your text is still below, and the latest saved version is shown beside "
                    "it: copy what you need, then reload to edit the latest version.",
                )
            except ValidationError as error:
                form.add_error(None, error)
            else:
                messages.success(request, "Note saved.")
                return redirect(_back_to(relationship, note.session, "#notes"))
    else:
        initial = {"body": note.body, "visibility": note.visibility, "version": note.version}
        draft_key = request.GET.get("draft")
        if draft_key and is_uuid(draft_key):
            draft = (
                NoteDraft.objects.visible_to(request.user).filter(note=note, key=draft_key).first()
            )
            if draft is not None:
                initial.update(body=draft.body, client_token=draft.key)
        form = _note_form(request, relationship, initial=initial, edit=True)
    return render(
        request,
        "relationships/note_form.html",
        {
            "relationship": relationship,
            "session": note.session,
            "form": form,
            "note": note,
            "conflict": status == 409,
        },
        status=status,
    )


@require_POST
def note_delete(request, public_id):
    note = scoped_get_or_404(
        request,
        Note.objects.editable_by(request.user).select_related("relationship", "session"),
        public_id=public_id,
    )
    relationship, session = note.relationship, note.session
    try:
        services.note_delete(note=note, author=request.user)
    except ValidationError as error:
        messages.error(request, _error_text(error))
    else:
        messages.success(request, "Note deleted.")
    return redirect(_back_to(relationship, session, "#notes"))


@require_POST
@sensitive_post_parameters()
def note_draft(request, public_id):
    """Autosave (htmx): keeps what the person is typing as a private draft."""
    relationship = _relationship(request, public_id)
    key = request.POST.get("client_token", "")
    if not is_uuid(key):
        return HttpResponse("Not saved: reload the page.", status=400)
    session = _optional_session(request, relationship, request.POST.get("session"))
    note = None
    if request.POST.get("note"):
        note_id = request.POST["note"]
        note = scoped_get_or_404(
            request,
            Note.objects.editable_by(request.user).filter(relationship=relationship),
            public_id=note_id if is_uuid(note_id) else uuid.uuid4(),
        )
    body = request.POST.get("body", "")[: NoteForm.base_fields["body"].max_length]
    try:
        draft = services.note_draft_save(
            author=request.user,
            relationship=relationship,
            key=key,
            body=body,
            session=session,
            note=note,
        )
    except ValidationError as error:
        return HttpResponse(_error_text(error))
    if draft is None:
        return HttpResponse("")
    saved_at = timezone.localtime(draft.updated_at).strftime("%H:%M")
    return HttpResponse(f"Draft saved privately at {saved_at}.")


# --- Action items -------------------------------------------------------------------


@require_POST
@sensitive_post_parameters()
def action_item_create(request, public_id):
    relationship = _relationship(request, public_id)
    session = _optional_session(request, relationship, request.POST.get("session"))
    form = ActionItemForm(request.POST, relationship=relationship)
    if form.is_valid():
        try:
            services.action_item_create(
                relationship=relationship, user=request.user, session=session, **form.cleaned_data
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, "Action item added.")
            if not request.htmx:
                return redirect(_back_to(relationship, session, "#actions"))
            form = ActionItemForm(relationship=relationship)
    if not request.htmx and form.errors:
        messages.error(
            request,
            "The action item wasn't added: "
            + " ".join(e for errors in form.errors.values() for e in errors),
        )
        return redirect(_back_to(relationship, session, "#actions"))
    return _actions_region(request, relationship, session, form)


def _actions_region(request, relationship, session, form):
    if session is not None:
        items = selectors.session_items(session, request.user)
    else:
        items = selectors.relationship_items(relationship, request.user)
    _with_labels(items=items, viewer=request.user, relationship=relationship)
    context = {
        "relationship": relationship,
        "session": session,
        "role": relationship.role_of(request.user),
        **selectors.action_items(items, recent=None if session else selectors.RECENT),
        "action_form": form,
    }
    return _render(request, DETAIL, context, partial="actions")


@require_POST
def action_item_done(request, public_id):
    item = scoped_get_or_404(
        request,
        ActionItem.objects.visible_to(request.user).select_related(
            "relationship__coach", "relationship__coachee", "session"
        ),
        public_id=public_id,
    )
    relationship = item.relationship
    done = request.POST.get("done") == "1"
    try:
        services.action_item_set_done(item=item, user=request.user, done=done)
    except ValidationError as error:
        messages.error(request, _error_text(error))
    else:
        messages.success(request, "Marked done." if done else "Marked not done yet.")
    if request.POST.get("back") == "mine":
        return redirect("my_action_items")
    # The item was ticked on the session page or on the relationship page.
    session = item.session if request.POST.get("session") else None
    if request.htmx:
        return _actions_region(
            request, relationship, session, ActionItemForm(relationship=relationship)
        )
    return redirect(_back_to(relationship, session, "#actions"))


def _item_back(request, item) -> tuple[str, str]:
    """The page an item's edit was opened from, to return to: `back` is "mine" (My
    action items), "session" (the item's session) or "" (its relationship page)."""
    back = request.POST.get("back", request.GET.get("back", ""))
    if back == "mine":
        return back, reverse("my_action_items")
    if back == "session" and item.session is not None:
        return back, _back_to(item.relationship, item.session, "#actions")
    return "", _back_to(item.relationship, None, "#actions")


@require_http_methods(["GET", "POST"])
def action_item_edit(request, public_id):
    item = scoped_get_or_404(
        request,
        ActionItem.objects.visible_to(request.user).select_related(
            "relationship__coach", "relationship__coachee", "session"
        ),
        public_id=public_id,
    )
    relationship = item.relationship
    back, back_url = _item_back(request, item)
    if item.is_done or not relationship.is_writable:
        messages.error(
            request,
            "This action item is done: mark it not done yet to change it."
            if item.is_done
            else "This relationship has ended: its action items can no longer change.",
        )
        return redirect(back_url)
    status = 200
    if request.method == "POST":
        form = ActionItemEditForm(request.POST, relationship=relationship)
        if form.is_valid():
            data = form.cleaned_data
            try:
                services.action_item_update(
                    item=item,
                    user=request.user,
                    text=data["text"],
                    owner=data["owner"],
                    due_on=data["due_on"],
                    expected_version=data["version"],
                )
            except services.ConflictError:
                item.refresh_from_db()
                status = 409
                form.add_error(
                    None,
                    "This action item was changed since you opened it, perhaps by "
                    f"{relationship.other_party_name(request.user)}. The latest saved version "
                    "is shown above: reload to change it.",
                )
            except ValidationError as error:
                apply_validation_error(form, error)
            else:
                messages.success(request, "Action item saved.")
                return redirect(back_url)
    else:
        form = ActionItemEditForm(
            initial={
                "text": item.text,
                "owner": item.owner,
                "due_on": item.due_on,
                "version": item.version,
            },
            relationship=relationship,
        )
    _with_labels(items=[item], viewer=request.user, relationship=relationship)
    return render(
        request,
        "relationships/action_item_form.html",
        {
            "relationship": relationship,
            "item": item,
            "form": form,
            "back": back,
            "back_url": back_url,
            "conflict": status == 409,
        },
        status=status,
    )


@require_GET
def my_action_items(request):
    """Everything the person owes, across their relationships, overdue first."""
    user = request.user
    items = selectors.action_items_owed(user)
    _with_labels(items=items, viewer=user)
    for item in items:
        r = item.relationship
        item.with_label = (
            f"Coaching {r.coachee_label}" if r.coach_id == user.pk else f"Coached by {r.coach.name}"
        )
    today = timezone.localdate()
    groups = [
        ("Overdue", [i for i in items if i.due_on and i.due_on < today], True),
        ("Coming up", [i for i in items if i.due_on and i.due_on >= today], False),
        ("No due date", [i for i in items if not i.due_on], False),
    ]
    return render(
        request, "relationships/my_action_items.html", {"groups": groups, "total": len(items)}
    )
