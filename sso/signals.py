from allauth.account.signals import user_logged_in
from django.dispatch import receiver

from accounts.audit import audit_record
from sso.services import break_glass_used


@receiver(user_logged_in, dispatch_uid="sso.signed_in")
def on_signed_in(sender, request, user, sociallogin=None, **kwargs):
    """Every sign-in through company sign-in is in the audit log, as the person's own
    event ("Activity about you"): HR does not learn when a named person uses Rapport. A
    break-glass password sign-in is the organisation's, so HR sees each one."""
    if sociallogin is not None:
        audit_record(actor=user, action="account.company_signed_in", subject=user)
    else:
        break_glass_used(user)
