import sys
from urllib.parse import urlencode

from allauth.account.adapter import get_adapter
from allauth.account.views import SignupView
from allauth.mfa.models import Authenticator
from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import ValidationError
from django.db import DatabaseError, InterfaceError, OperationalError, connections, transaction
from django.http import HttpResponse, HttpResponseServerError
from django.shortcuts import redirect, render
from django.template.defaultfilters import pluralize
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import HttpResponseClientRedirect

from accounts.audit_words import describe
from accounts.forms import (
    BulkInvitationForm,
    BulkSendForm,
    InvitationForm,
    MemberFilterForm,
    MembershipForm,
    OrganisationForm,
    ProfileForm,
    TeamForm,
)
from accounts.frame import page_frame
from accounts.models import AuditEvent, Invitation, Membership, User
from accounts.selectors import (
    hr_membership_or_404,
    organisation_members,
    organisation_overview,
    passkey_count,
)
from accounts.services import (
    InvitationError,
    bulk_rows_as_text,
    bulk_rows_from_text,
    calendar_feed_set,
    invitation_accept,
    invitation_approve,
    invitation_create,
    invitation_problem,
    invitation_revoke,
    invitations_bulk_preview,
    invitations_bulk_send,
    member_set_active,
    membership_update,
    organisation_update,
    pending_invitation_for_token,
    profile_update,
    team_create,
)
from config.access import scoped_get_or_404
from config.forms import apply_validation_error
from config.prepared import PreparedRead, Row
from reflections.selectors import due_checkins
from relationships.calendar import feed_token
from relationships.selectors import relationship_counts, relationships_for, upcoming_sessions

INVITATION_SESSION_KEY = "invitation_token"


# --- Health -------------------------------------------------------------------


@login_not_required
@require_GET
@never_cache
@transaction.non_atomic_requests
def healthz(request):
    """The process is up. Touches nothing else, so a database outage does not
    get the container restarted."""
    return HttpResponse("ok\n", content_type="text/plain")


@login_not_required
@require_GET
@never_cache
@transaction.non_atomic_requests
def readyz(request):
    """Ready to serve: the database answers, and the key store (config.routers), without
    which no private text can be read or written."""
    for alias, what in (("default", "database"), ("keys", "key store")):
        try:
            with connections[alias].cursor() as cursor:
                cursor.execute("SELECT 1")
        except DatabaseError:
            return HttpResponse(f"{what} unreachable\n", status=503, content_type="text/plain")
    return HttpResponse("ready\n", content_type="text/plain")


# --- Home and profile ---------------------------------------------------------


# Compiled once per process (config.prepared): whether the person has set up two-factor
# authentication, for the home page's suggestion.
_authenticator_of = PreparedRead(
    lambda person: Authenticator.objects.filter(user=person).values_list("pk", flat=True)[:1],
    person=Row(User),
)


@require_GET
def home(request):
    # The full list of due check-ins here; the frame only counts them, and with their
    # number in hand its one query leaves the count out.
    checkins_due = due_checkins(request.user)
    membership = page_frame(request, checkins_due=len(checkins_due)).membership
    context = {"membership": membership, "checkins_due": checkins_due}
    if membership is not None and membership.is_hr_admin:
        context["overview"] = organisation_overview(membership.organisation)
    context["has_mfa"] = bool(_authenticator_of(person=request.user))
    if membership is not None:
        context.update(relationships_for(request.user))
        context["upcoming"] = upcoming_sessions(
            request.user, timezone.now(), [*context["i_coach"], *context["coaching_me"]]
        )
    return render(request, "accounts/home.html", context)


@require_http_methods(["GET", "POST"])
def profile(request):
    user = request.user
    if request.method == "POST":
        form = ProfileForm(request.POST)
        if form.is_valid():
            profile_update(user=user, **form.cleaned_data)
            messages.success(request, "Your profile is saved.")
            return redirect("profile")
    else:
        form = ProfileForm(initial={"display_name": user.display_name, "time_zone": user.time_zone})
    feed_url = None
    if user.calendar_feed_key:
        feed_url = request.build_absolute_uri(
            reverse("calendar_feed", args=[user.public_id, feed_token(user)])
        )
    return render(
        request,
        "accounts/profile.html",
        {"form": form, "feed_url": feed_url, "passkey_count": passkey_count(user)},
    )


@require_POST
def calendar_feed_settings(request):
    """The private calendar feed: on with a new address (the old one stops working), or
    off."""
    action = request.POST.get("feed")
    if action not in {"on", "off"}:
        messages.error(request, "Choose whether to turn the calendar feed on or off.")
        return redirect(reverse("profile") + "#calendar")
    calendar_feed_set(user=request.user, on=action == "on")
    messages.success(
        request,
        "Your calendar feed has a new address: the old one no longer works."
        if action == "on"
        else "Your calendar feed is off: its address no longer works.",
    )
    return redirect(reverse("profile") + "#calendar")


# --- Sign-up and invitations --------------------------------------------------


class InvitationAwareSignupView(SignupView):
    """allauth's sign-up, told about the invitation the person arrived with."""

    def _invitation(self):
        return pending_invitation_for_token(self.request.session.get(INVITATION_SESSION_KEY))

    def get_form_kwargs(self):
        kwargs = super().get_form_kwargs()
        kwargs["invitation"] = self._invitation()
        return kwargs

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["invitation"] = context["form"].invitation
        token = self.request.session.get(INVITATION_SESSION_KEY)
        if token and context["invitation"] is None:
            # They came through an invitation that has since expired or been used.
            context["invitation_problem"] = invitation_problem(
                Invitation.objects.with_token(token).first()
            )
        return context

    def form_valid(self, form):
        try:
            with transaction.atomic():
                return super().form_valid(form)
        except InvitationError as error:
            self.request.session.pop(INVITATION_SESSION_KEY, None)
            form.add_error(None, str(error))
            return self.form_invalid(form)


signup = InvitationAwareSignupView.as_view()


@login_not_required
@require_http_methods(["GET", "POST"])
@never_cache
def invitation_accept_view(request, token: str):
    invitation = Invitation.objects.with_token(token).select_related("organisation", "team").first()
    problem = invitation_problem(invitation, request.user)
    if problem:
        status = 404 if invitation is None else (200 if invitation.is_pending else 410)
        return render(
            request,
            "accounts/invitation_accept.html",
            {"invitation": invitation, "problem": problem},
            status=status,
        )
    if not request.user.is_authenticated:
        # The link proves the address: allauth skips verification for it, and the
        # sign-up form joins this organisation instead of founding a new one.
        request.session[INVITATION_SESSION_KEY] = token
        get_adapter(request).stash_verified_email(request, invitation.email)
        if request.method == "POST":
            return redirect("account_signup")
        return render(request, "accounts/invitation_accept.html", {"invitation": invitation})
    if request.method == "POST":
        try:
            invitation_accept(invitation=invitation, user=request.user)
        except InvitationError as error:
            return render(
                request,
                "accounts/invitation_accept.html",
                {"invitation": invitation, "problem": str(error)},
                status=410,
            )
        messages.success(request, f"Welcome to {invitation.organisation}.")
        return redirect("home")
    return render(request, "accounts/invitation_accept.html", {"invitation": invitation})


# --- The organisation page (HR admins only) -----------------------------------


def _member_list(request, organisation, teams) -> dict:
    """The member list as the URL asks for it: searched, filtered, one page. The same
    parameters ride along on each member's forms, so saving a row keeps the list."""
    filter_form = MemberFilterForm(request.GET, teams=teams)
    members = organisation_members(
        organisation, **filter_form.filters(), page=request.GET.get("page") or 1
    )
    query = {
        key: value
        for key in ("q", "team", "role", "active")
        if key not in filter_form.errors and (value := request.GET.get(key, "").strip())
    }
    page_query = {**query, "page": members.number} if members.number > 1 else query
    return {
        "filter_form": filter_form,
        "member_page": members,
        "filtered": bool(query),
        "filter_query": urlencode(query),
        "list_query": urlencode(page_query),
    }


def _organisation_page(request, membership, *, partial=None, invitations_too=False, **forms):
    organisation = membership.organisation
    overview = organisation_overview(organisation)
    teams = list(overview["teams"])
    context = {
        "membership": membership,
        "organisation": organisation,
        "settings_form": forms.get("settings_form")
        or OrganisationForm(instance=organisation, prefix="org"),
        "team_form": forms.get("team_form") or TeamForm(prefix="team"),
        "invitation_form": forms.get("invitation_form")
        or InvitationForm(organisation=organisation, prefix="invite"),
        "bulk_form": BulkInvitationForm(organisation=organisation, prefix="bulk"),
        "role_choices": Membership.Role.choices,
        "member_errors": forms.get("member_errors", {}),
        "relationship_counts": relationship_counts(organisation),
        **overview,
        "teams": teams,
        **_member_list(request, organisation, teams),
    }
    template = "accounts/organisation.html"
    if partial and request.htmx:
        template = f"{template}#{partial}"
    response = render(request, template, context)
    if invitations_too and request.htmx:
        # A new team belongs in the invitation form's list too: swapped out of band.
        response.content += render_to_string(
            "accounts/organisation.html#invitations", {**context, "oob": True}, request=request
        ).encode()
    patch_vary_headers(response, ["HX-Request", "HX-Target"])
    return response


@require_GET
def organisation(request):
    membership = hr_membership_or_404(request)
    # The search form and the page links swap only the member list, and push its URL.
    wants_list = (
        request.htmx
        and request.htmx.target == "member-results"
        and not request.htmx.history_restore_request
    )
    return _organisation_page(request, membership, partial="member_results" if wants_list else None)


def _back_to_list(request):
    """Back to the organisation page, at the member list the form was sent from."""
    query = request.GET.urlencode()
    return redirect(reverse("organisation") + (f"?{query}" if query else "") + "#members")


@require_POST
def organisation_settings(request):
    membership = hr_membership_or_404(request)
    form = OrganisationForm(request.POST, instance=membership.organisation, prefix="org")
    if form.is_valid():
        try:
            organisation_update(
                organisation=membership.organisation, by=request.user, **form.cleaned_data
            )
        except ValidationError as error:
            apply_validation_error(form, error)
        else:
            messages.success(request, "Organisation settings saved.")
            return redirect("organisation")
    membership.organisation.refresh_from_db()
    return _organisation_page(request, membership, settings_form=form)


@require_POST
def team_create_view(request):
    membership = hr_membership_or_404(request)
    form = TeamForm(request.POST, prefix="team")
    if form.is_valid():
        try:
            team = team_create(
                organisation=membership.organisation, by=request.user, **form.cleaned_data
            )
        except ValidationError as error:
            apply_validation_error(form, error)
        else:
            messages.success(request, f"Team “{team.name}” created.")
            if request.htmx:
                return _organisation_page(
                    request, membership, partial="people", invitations_too=True
                )
            return redirect("organisation")
    return _organisation_page(request, membership, team_form=form, partial="people")


@require_POST
def invitation_create_view(request):
    membership = hr_membership_or_404(request)
    form = InvitationForm(request.POST, organisation=membership.organisation, prefix="invite")
    if form.is_valid():
        # Only for the wording: the service renews an outstanding invitation in place.
        before = (
            membership.organisation.invitations.outstanding()
            .filter(email__iexact=form.cleaned_data["email"].strip())
            .first()
        )
        try:
            invitation, _token = invitation_create(
                organisation=membership.organisation,
                invited_by=request.user,
                site_url=request.build_absolute_uri("/"),
                **form.cleaned_data,
            )
        except ValidationError as error:
            apply_validation_error(form, error)
        else:
            if before is None:
                done = f"Invitation sent to {invitation.email}."
            elif before.awaiting_approval:
                done = f"Invitation to {invitation.email} approved and sent."
            else:
                done = (
                    f"Invitation sent again to {invitation.email}. The link in the earlier "
                    "email no longer works."
                )
            messages.success(request, done)
            if request.htmx:
                return _organisation_page(request, membership, partial="invitations")
            return redirect("organisation")
    return _organisation_page(request, membership, invitation_form=form, partial="invitations")


@require_POST
def invitation_revoke_view(request, public_id):
    membership = hr_membership_or_404(request)
    invitation = scoped_get_or_404(
        request, Invitation.objects.managed_by(request.user), public_id=public_id
    )
    try:
        invitation_revoke(invitation=invitation, by=request.user)
    except ValidationError as error:
        messages.error(request, error.messages[0])
    else:
        messages.success(request, f"Invitation to {invitation.email} withdrawn.")
    if request.htmx:
        return _organisation_page(request, membership, partial="invitations")
    return redirect("organisation")


@require_POST
def invitation_approve_view(request, public_id):
    membership = hr_membership_or_404(request)
    invitation = scoped_get_or_404(
        request, Invitation.objects.managed_by(request.user), public_id=public_id
    )
    try:
        invitation_approve(
            invitation=invitation, by=request.user, site_url=request.build_absolute_uri("/")
        )
    except ValidationError as error:
        messages.error(request, error.messages[0])
    else:
        messages.success(request, f"Invitation approved and sent to {invitation.email}.")
    if request.htmx:
        return _organisation_page(request, membership, partial="invitations")
    return redirect("organisation")


@require_POST
def membership_update_view(request, public_id):
    membership = hr_membership_or_404(request)
    member = scoped_get_or_404(
        request,
        Membership.objects.managed_by(request.user).select_related("user"),
        public_id=public_id,
    )
    form = MembershipForm(request.POST, organisation=membership.organisation)
    if form.is_valid():
        try:
            membership_update(membership=member, by=request.user, **form.cleaned_data)
        except ValidationError as error:
            apply_validation_error(form, error)
        else:
            messages.success(request, f"{member.user.name} updated.")
            if request.user == member.user and not member.is_hr_admin:
                # They just gave up their own HR role: the page is no longer theirs.
                if request.htmx:
                    return HttpResponseClientRedirect(reverse("home"))
                return redirect("home")
            if request.htmx:
                return _organisation_page(request, membership, partial="people")
            return _back_to_list(request)
    member.refresh_from_db()
    errors = {member.public_id: [e for errs in form.errors.values() for e in errs]}
    return _organisation_page(request, membership, member_errors=errors, partial="people")


# --- Audit log --------------------------------------------------------------------------

AUDIT_PAGE_SIZE = 200


@require_GET
def organisation_audit(request):
    membership = hr_membership_or_404(request)
    # Organisational events only: relationship events belong to the two parties.
    events = (
        AuditEvent.objects.for_hr(request.user)
        .select_related("actor", "subject")
        .order_by("-id")[:AUDIT_PAGE_SIZE]
    )
    return render(
        request,
        "accounts/audit.html",
        {
            "events": _in_words(events, request.user),
            "heading": f"Audit log of {membership.organisation}",
            "for_hr": True,
        },
    )


@require_GET
def my_activity(request):
    events = (
        AuditEvent.objects.about(request.user)
        .select_related("actor", "subject")
        .order_by("-id")[:AUDIT_PAGE_SIZE]
    )
    return render(
        request,
        "accounts/audit.html",
        {
            "events": _in_words(events, request.user),
            "heading": "Activity about you",
            "for_hr": False,
        },
    )


def _in_words(events, viewer) -> list[dict]:
    return [
        {"created_at": event.created_at, "sentence": describe(event, viewer=viewer)}
        for event in events
    ]


# --- Error pages --------------------------------------------------------------------------


def server_error(request):
    """A 500, unless the database is unreachable: then a 503 that says to try again
    shortly. No traceback reaches the browser either way, and nothing here touches the
    database."""
    error = sys.exc_info()[1]
    if isinstance(error, (OperationalError, InterfaceError)):
        response = render_to_string("503.html")
        return HttpResponse(response, status=503, headers={"Retry-After": "30"})
    return HttpResponseServerError(render_to_string("500.html"))


@require_POST
def member_active_view(request, public_id):
    hr_membership_or_404(request)
    member = scoped_get_or_404(
        request,
        Membership.objects.managed_by(request.user).select_related("user", "organisation"),
        public_id=public_id,
    )
    active = request.POST.get("active") == "1"
    try:
        member_set_active(membership=member, active=active, by=request.user)
    except ValidationError as error:
        messages.error(request, error.messages[0])
    else:
        messages.success(
            request,
            f"{member.user.name} can sign in again."
            if active
            else f"{member.user.name} can no longer sign in. Their data stays theirs.",
        )
    return _back_to_list(request)


# --- Inviting many people at once (HR admins only) --------------------------------------

BULK = "accounts/invitations_bulk.html"


def _bulk_page(request, membership, form, *, rows=None, result=None, error=None):
    context = {
        "organisation": membership.organisation,
        "form": form,
        "result": result,
        "error": error,
    }
    if rows is not None:
        ready = [row for row in rows if row.ok]
        context |= {
            "rows": rows,
            "ready": ready,
            "problems": len(rows) - len(ready),
            "send_rows": bulk_rows_as_text(ready),
            "send_team": form.cleaned_data.get("team"),
            "send_role": form.cleaned_data.get("role"),
        }
    return render(request, BULK, context)


@require_http_methods(["GET", "POST"])
def invitations_bulk_view(request):
    """Paste a list or upload a CSV, and see every line checked before anything is sent."""
    membership = hr_membership_or_404(request)
    organisation = membership.organisation
    if request.method == "GET":
        return _bulk_page(
            request, membership, BulkInvitationForm(organisation=organisation, prefix="bulk")
        )
    form = BulkInvitationForm(request.POST, request.FILES, organisation=organisation, prefix="bulk")
    if not form.is_valid():
        return _bulk_page(request, membership, form)
    rows = invitations_bulk_preview(
        organisation=organisation,
        rows=form.cleaned_data["rows"],
        default_team=form.cleaned_data["team"],
    )
    if form.cleaned_data.get("csv_file"):
        # The list to change is the file's lines, as text: a file input can't be refilled.
        form = BulkInvitationForm(
            {**form.data.dict(), "bulk-addresses": bulk_rows_as_text(rows)},
            organisation=organisation,
            prefix="bulk",
        )
        form.is_valid()
    return _bulk_page(request, membership, form, rows=rows)


@require_POST
def invitations_bulk_send_view(request):
    membership = hr_membership_or_404(request)
    organisation = membership.organisation
    form = BulkSendForm(request.POST, organisation=organisation)
    if not form.is_valid():
        return _bulk_page(
            request,
            membership,
            BulkInvitationForm(organisation=organisation, prefix="bulk"),
            error="Nothing was sent: the list didn't arrive whole. Paste it again and check it.",
        )
    result = invitations_bulk_send(
        organisation=organisation,
        rows=bulk_rows_from_text(form.cleaned_data["rows"]),
        role=form.cleaned_data["role"],
        default_team=form.cleaned_data["team"],
        invited_by=request.user,
        site_url=request.build_absolute_uri("/"),
    )
    sent = len(result.sent)
    if not result.not_sent:
        messages.success(request, f"{sent} invitation{pluralize(sent)} sent.")
        return redirect(reverse("organisation") + "#invitations")
    # Something changed since the preview: say what was sent and what wasn't, and why.
    retry = BulkInvitationForm(
        {"bulk-addresses": bulk_rows_as_text(result.not_sent), "bulk-role": form.data["role"]},
        organisation=organisation,
        prefix="bulk",
    )
    retry.is_valid()
    return _bulk_page(request, membership, retry, result=result)
