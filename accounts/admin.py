"""The site administration. A superuser or staff member can look after accounts and
organisations here, but cannot take over anyone's account: nobody sets, resets or
removes another person's password, email addresses or second factor through the web.
Every change made here is also written to the hash-chained audit log."""

from allauth.account.models import EmailAddress, EmailConfirmation
from allauth.mfa.models import Authenticator
from allauth.socialaccount.models import SocialAccount, SocialApp, SocialToken
from allauth.usersessions.models import UserSession
from django import forms
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.decorators import login_not_required
from django.http import Http404
from django.urls import path

from accounts.models import Invitation, Membership, Organisation, Team, User
from accounts.services import audit_record, membership_update

# allauth's own admins let a superuser add a verified email address to someone's
# account, delete their authenticator (or read its secret), or copy a session key:
# each one a way into another person's account. They are not offered at all; nor are
# its social sign-in admins (linking a provider's account to anyone's is a way in too,
# and company sign-in's client secrets are never in the admin: sso.models).
for _model in (
    EmailAddress,
    EmailConfirmation,
    Authenticator,
    UserSession,
    SocialAccount,
    SocialApp,
    SocialToken,
):
    if admin.site.is_registered(_model):
        admin.site.unregister(_model)


def _changed_fields(message) -> list[str]:
    """The field labels of an admin change message (Django's list of dicts)."""
    if not isinstance(message, list):
        return []
    fields: list[str] = []
    for part in message:
        if isinstance(part, dict) and "changed" in part:
            fields += [str(f) for f in part["changed"].get("fields", [])]
    return fields


def _audit_admin(request, obj, action: str, fields: list[str] | None = None) -> None:
    if isinstance(obj, User):
        subject = obj
        membership = Membership.objects.filter(user=obj).select_related("organisation").first()
        organisation = membership.organisation if membership else None
    elif isinstance(obj, Organisation):
        subject, organisation = None, obj
    else:
        subject = getattr(obj, "user", None)
        organisation = getattr(obj, "organisation", None)
    details: dict = {"model": obj._meta.label_lower}
    if fields:
        details["fields"] = fields
    audit_record(
        actor=request.user,
        action=action,
        target=obj if getattr(obj, "public_id", None) else None,
        organisation=organisation,
        subject=subject,
        details=details,
    )


class AuditedAdmin(admin.ModelAdmin):
    """Django's admin history is editable by a superuser; the audit log's chain is not."""

    def log_addition(self, request, obj, message):
        _audit_admin(request, obj, "admin.added")
        return super().log_addition(request, obj, message)

    def log_change(self, request, obj, message):
        _audit_admin(request, obj, "admin.changed", _changed_fields(message))
        return super().log_change(request, obj, message)

    def log_deletions(self, request, queryset):
        for obj in queryset:
            _audit_admin(request, obj, "admin.deleted")
        return super().log_deletions(request, queryset)


class UserChangeForm(forms.ModelForm):
    """No password, no email: those belong to the person (and to allauth's flows)."""

    class Meta:
        model = User
        fields = [
            "display_name",
            "time_zone",
            "is_active",
            "is_staff",
            "is_superuser",
            "groups",
            "user_permissions",
        ]


@login_not_required
def _no_password_page(request, *args, **kwargs):
    raise Http404("Passwords are set by their owner only.")


@admin.register(User)
class UserAdmin(AuditedAdmin, DjangoUserAdmin):
    form = UserChangeForm
    ordering = ["email"]
    list_display = ["email", "display_name", "is_active", "is_staff", "date_joined"]
    search_fields = ["email", "display_name"]
    readonly_fields = [
        "email",
        "password_state",
        "email_addresses",
        "second_factor",
        "last_login",
        "date_joined",
    ]
    fieldsets = [
        (None, {"fields": ["email", "email_addresses", "password_state", "second_factor"]}),
        ("Profile", {"fields": ["display_name", "time_zone"]}),
        (
            "Access",
            {"fields": ["is_active", "is_staff", "is_superuser", "groups", "user_permissions"]},
        ),
        ("Dates", {"fields": ["last_login", "date_joined"]}),
    ]

    def get_urls(self):
        # Not Django's password-change page: that URL answers 404, for everyone.
        return [
            path("<id>/password/", _no_password_page, name="accounts_user_password_change")
        ] + admin.ModelAdmin.get_urls(self)

    def user_change_password(self, request, id, form_url=""):
        raise Http404("Passwords are set by their owner only.")

    def get_form(self, request, obj=None, **kwargs):
        # Django's UserAdmin swaps in its add form (with a password) when obj is None.
        kwargs["form"] = self.form
        return admin.ModelAdmin.get_form(self, request, obj, **kwargs)

    def get_fieldsets(self, request, obj=None):
        return self.fieldsets

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        if not request.user.is_superuser:
            # Staff with the change permission must not make themselves superusers.
            fields += ["is_staff", "is_superuser", "groups", "user_permissions"]
        return fields

    # People create their own accounts (sign-up, invitations), choosing their own
    # password: an account made here would have a password its maker knows.
    def has_add_permission(self, request):
        return False

    # An account is deleted by its owner, which anonymises it and keeps the audit
    # log's chain intact; a hard delete here would break both. Deactivate instead.
    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description="password")
    def password_state(self, obj):
        return "Set (only its owner can change it)" if obj.has_usable_password() else "Not set"

    @admin.display(description="email addresses")
    def email_addresses(self, obj):
        addresses = EmailAddress.objects.filter(user=obj).order_by("-primary", "email")
        return (
            ", ".join(
                f"{a.email} ({'verified' if a.verified else 'not verified'}"
                f"{', primary' if a.primary else ''})"
                for a in addresses
            )
            or "None"
        )

    @admin.display(description="two-factor authentication")
    def second_factor(self, obj):
        kinds = sorted(
            str(Authenticator.Type(t).label)
            for t in Authenticator.objects.filter(user=obj).values_list("type", flat=True)
        )
        return ", ".join(kinds) or "Not set up"


@admin.register(Organisation)
class OrganisationAdmin(AuditedAdmin):
    list_display = ["name", "slug", "anonymity_threshold", "created_at"]
    search_fields = ["name"]

    # Deleting an organisation would also blank it on its audit events, breaking the
    # chain; and nobody should delete a whole organisation with one click.
    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Team)
class TeamAdmin(AuditedAdmin):
    list_display = ["name", "organisation"]
    list_select_related = ["organisation"]

    # Deleting a team moves its members to no team, unaudited, person by person.
    def has_delete_permission(self, request, obj=None):
        return False


class MembershipAdminForm(forms.ModelForm):
    class Meta:
        model = Membership
        fields = ["user", "organisation", "team", "role"]

    def clean(self):
        cleaned = super().clean()
        instance = self.instance
        if (
            instance.pk
            and instance.role == Membership.Role.HR_ADMIN
            and cleaned.get("role") != Membership.Role.HR_ADMIN
            and not Membership.objects.filter(
                organisation_id=instance.organisation_id, role=Membership.Role.HR_ADMIN
            )
            .exclude(pk=instance.pk)
            .exists()
        ):
            self.add_error("role", "An organisation needs at least one HR admin.")
        team = cleaned.get("team")
        organisation_id = (
            cleaned["organisation"].pk if cleaned.get("organisation") else instance.organisation_id
        )
        if team is not None and organisation_id and team.organisation_id != organisation_id:
            self.add_error("team", "Choose a team from this organisation.")
        return cleaned


@admin.register(Membership)
class MembershipAdmin(AuditedAdmin):
    form = MembershipAdminForm
    list_display = ["user", "organisation", "team", "role"]
    list_select_related = ["user", "organisation", "team"]
    list_filter = ["role"]

    def get_readonly_fields(self, request, obj=None):
        # A membership stays with its person and organisation; team and role may change.
        return ["user", "organisation"] if obj is not None else []

    def save_model(self, request, obj, form, change):
        if not change:
            return super().save_model(request, obj, form, change)
        # Through the same use case as HR's page, so a team move or role change made
        # here is recorded just the same (who moved whom, from where to where).
        previous = Membership.objects.get(pk=obj.pk)
        membership_update(membership=previous, team=obj.team, role=obj.role, by=request.user)


@admin.register(Invitation)
class InvitationAdmin(AuditedAdmin):
    list_display = [
        "email",
        "organisation",
        "created_at",
        "expires_at",
        "accepted_at",
        "revoked_at",
    ]
    list_select_related = ["organisation"]
    # The token hash is a credential's fingerprint: not shown, not editable.
    exclude = ["token_hash"]
    readonly_fields = ["accepted_by", "accepted_at"]
