"""Audit events in plain words: the one place that turns an action code into a sentence.

Both HR's audit log and "Activity about you" use it. Names in these sentences are typed
by people (display names, team names), so every sentence is built with `format_html`,
which escapes them; nothing here marks user text safe.
"""

import re

from django.utils.html import format_html
from django.utils.safestring import SafeString

THRESHOLD = re.compile(r"^organisation\.threshold_(raised|lowered)_(\d+)_to_(\d+)$")

# "{actor}" and "{subject}" are filled in by `describe`, escaped.
SENTENCES = {
    "invitation.created": "{actor} sent an invitation to join",
    "invitation.requested": "{actor} asked to invite someone from outside the organisation",
    "invitation.renewed": "{actor} sent an invitation again",
    "invitation.approved": "{actor} approved an invitation",
    "invitation.declined": "{actor} turned down a request to invite someone",
    "invitation.revoked": "{actor} withdrew an invitation",
    "invitation.accepted": "{actor} accepted an invitation and joined",
    "membership.role_hr_admin": "{actor} made {subject} an HR admin",
    "membership.role_member": "{actor} made {subject} a member (no longer an HR admin)",
    "membership.team_changed": "{actor} moved {subject} to another team",
    "membership.deactivated": "{actor} stopped {subject} signing in",
    "membership.reactivated": "{actor} let {subject} sign in again",
    "team.created": "{actor} created a team",
    "organisation.email_domains_changed": "{actor} changed the organisation's email domains",
    "insights.viewed": "{actor} looked at the anonymous trends",
    "insights.exported": "{actor} downloaded the anonymous trends as a spreadsheet",
    "account.deleted": "A member deleted their account",
    "sso.connected": "{actor} connected company sign-in",
    "sso.saml_prepared": "{actor} published Rapport's SAML details for the provider",
    "sso.changed": "{actor} changed the company sign-in settings",
    "sso.removed": "{actor} removed company sign-in",
    "sso.only_on": "{actor} made company sign-in the only way to sign in",
    "sso.only_off": "{actor} let members sign in with a password again",
    "sso.joined": "{actor} joined through company sign-in",
    "sso.break_glass_used": "{actor} signed in with the break-glass password",
    "admin.added": "{actor} added {what} in the site administration",
    "admin.changed": "{actor} changed {what} in the site administration",
    "admin.deleted": "{actor} deleted {what} in the site administration",
    # Only ever shown to the two parties, on "Activity about you".
    "relationship.invited": "{actor} invited {subject} to a coaching relationship",
    "relationship.accepted": "{actor} accepted {subject}'s coaching invitation",
    "relationship.declined": "{actor} declined {subject}'s coaching invitation",
    "relationship.paused": "{actor} paused coaching with {subject}",
    "relationship.active": "{actor} resumed coaching with {subject}",
    "relationship.resumed": "{actor} resumed coaching with {subject}",
    "relationship.ended": "{actor} ended coaching with {subject}",
    "relationship.withdrawn": "{actor} withdrew the coaching invitation to {subject}",
    "relationship.expired": "The coaching invitation to {subject} expired",
    "data.exported": "{actor} downloaded a copy of {possessive} data",
    "account.password_changed": "The password of {possessive} account was changed",
    "account.password_removed": "The password of {possessive} account was removed",
    "account.email_changed": "The email address of {possessive} account was changed",
    "account.email_added": "An email address was added to {possessive} account",
    "account.email_verified": "An email address on {possessive} account was verified",
    "account.email_removed": "An email address was removed from {possessive} account",
    "account.mfa_added": "Two-factor authentication was set up on {possessive} account",
    "account.mfa_removed": "Two-factor authentication was removed from {possessive} account",
    "account.passkey_added": "A passkey was added to {possessive} account",
    "account.passkey_removed": "A passkey was removed from {possessive} account",
    "account.company_signed_in": "{actor} signed in through company sign-in",
    "account.sso_connected": "Company sign-in was joined to {possessive} account",
    "account.mfa_reset": "New recovery codes were made for {possessive} account",
}

# What an admin change was about, in words (model label → noun).
ADMIN_OBJECTS = {
    "accounts.user": "{possessive} account",
    "accounts.membership": "{possessive} membership",
    "accounts.organisation": "the organisation's settings",
    "accounts.team": "a team",
    "accounts.invitation": "an invitation",
}


def _person(user, viewer, *, capital: bool) -> str:
    if user is None:
        return "Someone" if capital else "someone"
    if viewer is not None and user.pk == viewer.pk:
        return "You" if capital else "you"
    return user.name


def _team(name) -> str:
    return name if name else "no team"


def describe(event, *, viewer=None) -> SafeString:
    """One event as a sentence for `viewer`, who reads "you" for themselves."""
    actor = _person(event.actor, viewer, capital=True)
    is_viewer = viewer is not None and event.actor_id == viewer.pk
    if (event.details or {}).get("by_member") and not is_viewer:
        # A member's invitation is a wish to coach someone: others read "A member".
        actor = "A member"
    subject = _person(event.subject, viewer, capital=False)
    details = event.details or {}
    if viewer is not None and event.subject_id == viewer.pk:
        possessive = "your"
    elif event.subject is not None:
        possessive = f"{event.subject.name}'s"
    else:
        possessive = "an"
    action = event.action

    if action == "membership.team_changed" and details:
        return format_html(
            "{} moved {} from {} to {}",
            actor,
            subject,
            _team(details.get("from_team")),
            _team(details.get("to_team")),
        )
    if action == "team.created" and details:
        return format_html("{} created the team {}", actor, details.get("team", ""))
    if match := THRESHOLD.match(action):
        direction, before, after = match.groups()
        return format_html(
            "{} {} the minimum group size from {} to {}", actor, direction, before, after
        )
    if action.startswith("admin."):
        what_template = ADMIN_OBJECTS.get(details.get("model", ""), "a record")
        what = _fill(what_template, possessive=possessive)
        text = _fill(SENTENCES.get(action, "{actor} changed {what}"), actor=actor, what=what)
        if fields := details.get("fields"):
            return format_html("{} ({})", text, ", ".join(str(f) for f in fields))
        return text
    if action in SENTENCES:
        return _fill(SENTENCES[action], actor=actor, subject=subject, possessive=possessive)
    if action.startswith("membership.role_"):
        role = action.removeprefix("membership.role_").replace("_", " ")
        return format_html("{} changed the role of {} to {}", actor, subject, role)
    # An action this module does not know yet: still words, never the code.
    area, _, what = action.partition(".")
    return format_html(
        "{} recorded a change ({}: {})", actor, area.replace("_", " "), what.replace("_", " ")
    )


def _fill(sentence: str, **values) -> SafeString:
    """format_html with named places: each value escaped."""
    names = re.findall(r"\{(\w+)\}", sentence)
    if not names:
        return format_html("{}", sentence)
    return format_html(re.sub(r"\{\w+\}", "{}", sentence), *(values[name] for name in names))
