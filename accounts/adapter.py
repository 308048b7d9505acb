"""Rapport's allauth adapter and login form: allauth's behaviour, in Rapport's words."""

import math
import time

from allauth.account import app_settings as account_settings
from allauth.account.adapter import DefaultAccountAdapter
from allauth.account.forms import LoginForm as AllauthLoginForm
from allauth.core import context as allauth_context
from allauth.core.internal.ratelimit import get_cache_key, parse_rates
from django.contrib import messages
from django.contrib.sites.shortcuts import get_current_site
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.shortcuts import redirect

from outbox.services import queue_message

LOCKED_OUT = "too_many_login_attempts"


def _in_words(seconds: float) -> str:
    minutes = max(1, math.ceil(seconds / 60))
    return "a minute" if minutes == 1 else f"{minutes} minutes"


class AccountAdapter(DefaultAccountAdapter):
    def send_mail(self, template_prefix, email, context):
        """allauth's email (confirmations, codes, password resets), rendered as allauth
        renders it, then queued like all of Rapport's: sent by a worker, never from
        the request, so a mail outage never turns a sign-up into an error."""
        request = allauth_context.request
        message = self.render_mail(
            template_prefix,
            email,
            {
                "request": request,
                "email": email,
                "current_site": get_current_site(request),
                **context,
            },
        )
        queue_message(message, template=template_prefix)

    def pre_authenticate(self, request, **credentials):
        """allauth pauses sign-in after too many failed attempts (ACCOUNT_RATE_LIMITS,
        "login_failed": 5 per 5 minutes per address, 10 a minute per network address)
        and says only "Try again later", to the right password too. Say for how long,
        that the right password waits as well, and the way round it."""
        try:
            super().pre_authenticate(request, **credentials)
        except ValidationError as error:
            if error.code != LOCKED_OUT:
                raise
            wait = _in_words(self.login_pause_seconds(request, **credentials))
            raise ValidationError(
                "Too many failed attempts to sign in, so signing in is paused, even with "
                f"the right password. Try again in {wait}, or reset your password to sign "
                "in straight away.",
                code=LOCKED_OUT,
            ) from None

    def pre_login(self, request, user, **kwargs):
        """An SSO-only organisation's members come in through its provider alone: not
        with a passkey or an emailed code either (the password form says so itself, see
        LoginForm), so removing someone at the provider removes every way in."""
        response = super().pre_login(request, user, **kwargs)
        if response is not None:
            return response
        if (kwargs.get("signal_kwargs") or {}).get("sociallogin") is not None:
            return None
        from sso.services import password_sign_in_refused, refused_message

        config = password_sign_in_refused(user)
        if config is None:
            return None
        from allauth.account.internal.stagekit import clear_login

        clear_login(request)
        messages.error(request, refused_message(config))
        return redirect("account_login")

    def login_pause_seconds(self, request, **credentials) -> float:
        """How long until a failed attempt drops out of the window that blocks: the
        same sliding windows allauth keeps in the cache (a refused attempt adds none)."""
        key = self._get_login_attempts_cache_key(request, **credentials)
        now = time.time()
        wait = 0.0
        for rate in parse_rates(account_settings.RATE_LIMITS.get("login_failed")):
            cache_key = get_cache_key(
                request, app="allauth.account", action="login_failed", rate=rate, key=key
            )
            # Newest first, as allauth stores them.
            history = [t for t in cache.get(cache_key, []) if t > now - rate.duration]
            if len(history) >= rate.amount:
                wait = max(wait, history[rate.amount - 1] + rate.duration - now)
        return wait


class LoginForm(AllauthLoginForm):
    """allauth's login form with its labels in sentence case, like the rest of Rapport."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "remember" in self.fields:
            self.fields["remember"].label = "Remember me"

    def clean(self):
        cleaned_data = super().clean()
        # Only once the password is right: a wrong one gets the usual answer, so the
        # form tells no one whose organisation is SSO-only.
        if getattr(self, "user", None) is not None and not self.errors:
            from sso.services import password_sign_in_refused, refused_message

            config = password_sign_in_refused(self.user)
            if config is not None:
                raise ValidationError(refused_message(config), code="company_sign_in_only")
        return cleaned_data
