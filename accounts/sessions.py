"""Sessions whose database rows sign nobody in (docs/threat-model.md, "A copy of the
database").

Django's database sessions keep the cookie's value itself as the row's key, and allauth's
list of a person's sessions does too: whoever reads a copy of the database could set one
as their `sessionid` cookie and be that person. Here the cookie stays the secret and the
database holds only a keyed hash of it (HMAC-SHA256 under SECRET_KEY, 40 hex digits, the
width of the column): a cookie is hashed on every request to find its row, and a hash
offered as a cookie is hashed again and finds nothing.

People who can see or change others' accounts (HR admins, staff) get shorter sessions:
PRIVILEGED_SESSION_SECONDS since the session last changed, rather than two weeks.
"""

from datetime import timedelta

from allauth.core import context
from allauth.core.internal.sessionkit import get_session_user
from allauth.usersessions.models import UserSession, UserSessionManager
from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.contrib.sessions.backends.db import SessionStore as DatabaseSessionStore
from django.contrib.sessions.models import Session
from django.db.models import Q
from django.utils import timezone
from django.utils.crypto import salted_hmac

# A working day: an HR admin signs in again each morning.
PRIVILEGED_SESSION_SECONDS = 8 * 60 * 60
_HASH_SALT = "accounts.sessions.stored_key"


def stored_key(session_key: str) -> str:
    """What the database holds for a cookie's session key."""
    return salted_hmac(_HASH_SALT, session_key, algorithm="sha256").hexdigest()[:40]


def is_privileged(user_id) -> bool:
    """Staff, or an HR admin of any organisation."""
    from accounts.models import Membership, User

    if user_id is None:
        return False
    return (
        User.objects.filter(pk=user_id)
        .filter(
            Q(is_staff=True) | Q(is_superuser=True) | Q(membership__role=Membership.Role.HR_ADMIN)
        )
        .exists()
    )


class SessionStore(DatabaseSessionStore):
    """Django's database sessions, keyed in the database by `stored_key(cookie)`."""

    def _get_session_from_db(self):
        try:
            return self.model.objects.get(
                session_key=stored_key(self.session_key), expire_date__gt=timezone.now()
            )
        except self.model.DoesNotExist:
            self._session_key = None

    def exists(self, session_key):
        return self.model.objects.filter(session_key=stored_key(session_key)).exists()

    def create_model_instance(self, data):
        return self.model(
            session_key=stored_key(self._get_or_create_session_key()),
            session_data=self.encode(data),
            expire_date=self.get_expiry_date(),
        )

    def delete(self, session_key=None):
        if session_key is None:
            if self.session_key is None:
                return
            session_key = self.session_key
        self.model.objects.filter(session_key=stored_key(session_key)).delete()

    # The async variants, the same way (Django's call the sync helpers above otherwise).
    async def aexists(self, session_key):
        return await self.model.objects.filter(session_key=stored_key(session_key)).aexists()

    async def adelete(self, session_key=None):
        if session_key is None:
            if self.session_key is None:
                return
            session_key = self.session_key
        await self.model.objects.filter(session_key=stored_key(session_key)).adelete()

    async def _aget_session_from_db(self):
        try:
            return await self.model.objects.aget(
                session_key=stored_key(self.session_key), expire_date__gt=timezone.now()
            )
        except self.model.DoesNotExist:
            self._session_key = None

    async def acreate_model_instance(self, data):
        return self.create_model_instance(data)

    def get_session_cookie_age(self):
        user_id = self.get(SESSION_KEY)
        # Asked a few times as a session is saved: once per person per store.
        if getattr(self, "_privileged_for", object()) != user_id:
            self._privileged_for, self._privileged = user_id, is_privileged(user_id)
        if self._privileged:
            return PRIVILEGED_SESSION_SECONDS
        return settings.SESSION_COOKIE_AGE


def privileged_sessions_shorten(user) -> None:
    """`user` has just become privileged: sessions they hold end within the shorter time
    (each one's next change keeps it so: `SessionStore.get_session_cookie_age`)."""
    cap = timezone.now() + timedelta(seconds=PRIVILEGED_SESSION_SECONDS)
    keys = UserSession.objects.filter(user=user).values("session_key")
    Session.objects.filter(session_key__in=keys, expire_date__gt=cap).update(expire_date=cap)


# --- allauth's list of a person's sessions, keyed the same way --------------------------
#
# allauth records `request.session.session_key` (the cookie's value) and hands its stored
# keys back to the session engine. These replace the few methods that do, so the list
# holds the same hash as the session table and never a cookie.


class _HashedKey:
    """The session as allauth's recorder sees it: its key is the stored one."""

    def __init__(self, session):
        self._session = session

    @property
    def session_key(self):
        key = self._session.session_key
        return stored_key(key) if key else key

    def save(self, *args, **kwargs):
        self._session.save(*args, **kwargs)


_create_from_request = UserSessionManager.create_from_request


def _create_from_request_hashed(self, request, *, user=None, session=None):
    session = session if session is not None else request.session
    return _create_from_request(self, request, user=user, session=_HashedKey(session))


def _exists(self) -> bool:
    return Session.objects.filter(session_key=self.session_key).exists()


def _purge(self) -> bool:
    """allauth's: forget a listed session that no longer signs its person in (gone,
    expired, or its password changed since)."""
    row = Session.objects.filter(session_key=self.session_key).first()
    alive = False
    if row is not None and row.expire_date > timezone.now():
        store = SessionStore()
        store._session_cache = store.decode(row.session_data)
        alive = get_session_user(store) is not None
    if not alive:
        self.delete()
    return not alive


def _is_current(self) -> bool:
    current = context.request.session.session_key
    return bool(current) and self.session_key == stored_key(current)


def _end(self) -> None:
    Session.objects.filter(session_key=self.session_key).delete()
    self.delete()


def install() -> None:
    """Called from AccountsConfig.ready."""
    UserSessionManager.create_from_request = _create_from_request_hashed
    UserSession.exists = _exists
    UserSession.purge = _purge
    UserSession.is_current = _is_current
    UserSession.end = _end
