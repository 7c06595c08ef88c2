"""Sign-up, email verification, sign-in with throttling, sessions and password reset."""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass
from datetime import timedelta

from email_validator import EmailNotValidError, validate_email
from sqlmodel import Session, select

from quantum_voice.core.cache import get_cache
from quantum_voice.core.clock import utcnow
from quantum_voice.core.config import Settings, get_settings
from quantum_voice.core.errors import Conflict, NotAuthenticated, PermissionDenied, RateLimited, ValidationFailed
from quantum_voice.core.security import hash_password, hash_token, new_token, password_needs_rehash, verify_password
from quantum_voice.models.accounts import (
    EmailToken,
    Membership,
    Organization,
    Role,
    SessionKind,
    TokenPurpose,
    User,
    UserSession,
)
from quantum_voice.models.developer import ApiKey
from quantum_voice.services import audit
from quantum_voice.services.email import OutgoingEmail, send_email
from quantum_voice.services.ratelimit import Limit, RateLimiter
from quantum_voice.services.tenancy import Scope

MIN_PASSWORD_LENGTH = 10
WEB_TICKET_SECONDS = 60


# ---------------------------------------------------------------- validation helpers

def normalise_email(raw: str, field: str = "email") -> str:
    try:
        return validate_email(raw.strip(), check_deliverability=False).normalized.lower()
    except EmailNotValidError as exc:
        raise ValidationFailed(f"That email address is not valid: {exc}", field=field) from exc


def check_password(password: str, email: str | None = None, field: str = "password") -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValidationFailed(f"Use a password of at least {MIN_PASSWORD_LENGTH} characters.", field=field)
    if len(password) > 1024:
        raise ValidationFailed("That password is too long (1024 characters at most).", field=field)
    if len(set(password)) < 4 or (email and password.lower() == email.lower()):
        raise ValidationFailed("That password is too easy to guess. Mix more different characters.", field=field)
    weakness = password_weakness(password, email)
    if weakness:
        raise ValidationFailed(f"That password is too easy to guess{weakness} Add another word or two.", field=field)


MIN_PASSWORD_SCORE = 2  # zxcvbn's 0-4: "password12", "1234567890", "qwertyuiop" and "P@ssw0rd123" score below


def password_weakness(password: str, email: str | None = None) -> str:
    """": it is a very common password." (zxcvbn's reason, with its common-password and keyboard lists, which ship
    in its wheel) when ``password`` is easy to guess, else ""."""
    from zxcvbn import zxcvbn

    result = zxcvbn(password[:100], user_inputs=[email.split("@")[0]] if email else [])
    if result["score"] >= MIN_PASSWORD_SCORE:
        return ""
    warning = (result.get("feedback") or {}).get("warning") or ""
    return f": {warning[0].lower() + warning[1:].rstrip('.')}." if warning else "."


def check_name(value: str, what: str, field: str, max_length: int = 200) -> str:
    value = " ".join(value.split())
    if not value:
        raise ValidationFailed(f"Enter the {what}.", field=field)
    if len(value) > max_length:
        raise ValidationFailed(f"The {what} is too long ({max_length} characters at most).", field=field)
    return value


def slugify(text: str, max_length: int = 60) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    return slug[:max_length].strip("-") or "org"


def unique_slug(session: Session, model, text: str) -> str:
    base = slugify(text)
    candidate, n = base, 1
    while session.exec(select(model).where(model.slug == candidate)).first() is not None:
        n += 1
        candidate = f"{base}-{n}"
    return candidate


# ---------------------------------------------------------------- email tokens

def _issue_email_token(session: Session, user: User, purpose: TokenPurpose, ttl: timedelta) -> str:
    token = new_token()
    session.add(EmailToken(user_id=user.id, purpose=purpose.value, token_hash=hash_token(token),
                           expires_at=utcnow() + ttl))
    session.flush()
    return token


def _consume_email_token(session: Session, token: str, purpose: TokenPurpose) -> tuple[EmailToken, User]:
    row = session.exec(select(EmailToken).where(EmailToken.token_hash == hash_token(token),
                                                 EmailToken.purpose == purpose.value)).first()
    what = "verification" if purpose is TokenPurpose.VERIFY_EMAIL else "password reset"
    if row is None:
        raise ValidationFailed(f"This {what} link is not valid. Request a new one.", code="invalid_token", field="token")
    if row.used_at is not None:
        raise ValidationFailed(f"This {what} link was already used. Request a new one if you still need it.",
                               code="token_used", field="token")
    if row.expires_at <= utcnow():
        raise ValidationFailed(f"This {what} link has expired. Request a new one.", code="token_expired", field="token")
    row.used_at = utcnow()
    user = session.get(User, row.user_id)
    assert user is not None
    return row, user


def send_verification_email(session: Session, user: User, settings: Settings | None = None) -> None:
    settings = settings or get_settings()
    token = _issue_email_token(session, user, TokenPurpose.VERIFY_EMAIL,
                               timedelta(hours=settings.email_token_ttl_hours))
    link = settings.app_link("/verify", token)
    send_email(session, OutgoingEmail(
        to=user.email,
        subject="Verify your email for Quantum Voice",
        text=(f"Welcome to Quantum Voice!\n\nConfirm your email address by opening this link:\n{link}\n\n"
              f"The link is valid for {settings.email_token_ttl_hours} hours. "
              "If you did not sign up, ignore this email."),
        html=(f"<p>Welcome to Quantum Voice!</p><p><a href=\"{link}\">Verify your email address</a></p>"
              f"<p>The link is valid for {settings.email_token_ttl_hours} hours.</p>"),
        kind="verify_email",
    ), settings)


# ---------------------------------------------------------------- sign-up and verification

@dataclass(frozen=True)
class SignupResult:
    user: User
    organization: Organization


def signup(session: Session, *, email: str, password: str, organization_name: str,
           full_name: str | None = None, ip: str | None = None) -> SignupResult:
    email = normalise_email(email)
    check_password(password, email)
    org_name = check_name(organization_name, "organisation name", "organization")
    if session.exec(select(User).where(User.email == email)).first() is not None:
        raise Conflict("An account with this email already exists. Sign in, or reset your password.",
                       code="email_taken", field="email")
    org = Organization(name=org_name, slug=unique_slug(session, Organization, org_name))
    user = User(email=email, password_hash=hash_password(password),
                full_name=check_name(full_name, "name", "full_name") if full_name else None)
    session.add(org)
    session.add(user)
    session.flush()
    session.add(Membership(organization_id=org.id, user_id=user.id, role=Role.OWNER.value))
    audit.record(session, "auth.sign_up", organization_id=org.id, actor_user_id=user.id,
                 target_type="user", target_id=user.id, ip=ip)
    send_verification_email(session, user)
    return SignupResult(user=user, organization=org)


SIGNUP_SENT = "Check your email: we sent a message to {email} with what to do next."


def register(session: Session, *, email: str, password: str, organization_name: str,
             full_name: str | None = None, ip: str | None = None, settings: Settings | None = None) -> str:
    """Sign-up as the public sees it, which answers the same whether or not the address already has an account
    (so it cannot be used to find out who has one): a new address gets its verification link; an existing one
    gets a note that someone tried, with how to sign in or reset the password. Both paths hash the password and send
    one email, so they take as long as each other too. Rate-limited per address.
    Returns the normalised email, for ``SIGNUP_SENT``."""
    settings = settings or get_settings()
    verdict = RateLimiter(get_cache(), "sign-up").hit(f"ip:{ip or 'unknown'}",
                                                      Limit(settings.signup_max_per_ip_per_hour, 3600))
    if not verdict.allowed:
        raise RateLimited(f"Too many sign-ups from your network. Try again in {_minutes(verdict.retry_after)}.",
                          retry_after=verdict.retry_after)
    email = normalise_email(email)
    check_password(password, email)
    check_name(organization_name, "organisation name", "organization")
    existing = session.exec(select(User).where(User.email == email)).first()
    if existing is None:
        signup(session, email=email, password=password, organization_name=organization_name, full_name=full_name,
               ip=ip)
        return email
    # the same costly work as a new account (its password hash, one email), so the answer's timing tells nothing
    hash_password(password)
    send_email(session, OutgoingEmail(
        to=existing.email, subject="Someone tried to sign up with your email",
        text=("Someone (maybe you) tried to create a Quantum Voice account with this email address, which already "
              f"has one.\n\nSign in: {settings.app_url.rstrip('/')}/login\nForgot your password? Reset it: "
              f"{settings.app_url.rstrip('/')}/forgot-password\n\nIf it was not you, you can ignore this email: "
              "nothing was changed."),
        kind="account_exists"), settings)
    audit.record(session, "auth.sign_up_existing", actor_user_id=existing.id, target_type="user",
                 target_id=existing.id, ip=ip)
    return email


def verify_email(session: Session, token: str) -> User:
    _, user = _consume_email_token(session, token, TokenPurpose.VERIFY_EMAIL)
    if user.email_verified_at is None:
        user.email_verified_at = utcnow()
    audit.record(session, "auth.email_verified", actor_user_id=user.id, target_type="user", target_id=user.id)
    return user


def resend_verification(session: Session, email: str) -> None:
    """Sends a fresh link if the account exists and is unverified. Says nothing either way."""
    try:
        email = normalise_email(email)
    except ValidationFailed:
        return
    user = session.exec(select(User).where(User.email == email)).first()
    if user is not None and user.email_verified_at is None:
        limiter = RateLimiter(get_cache(), "verify-mail")
        if limiter.hit(email, Limit(max_hits=5, window_seconds=3600)).allowed:
            send_verification_email(session, user)


# ---------------------------------------------------------------- sign-in

def _limits(settings: Settings) -> tuple[Limit, Limit]:
    """(one address, any accounts; one account, from everywhere): caps per window."""
    return (Limit(settings.login_max_attempts_per_ip, settings.login_window_seconds),
            Limit(settings.login_max_attempts_per_account_anywhere, settings.login_window_seconds))


def _pair_wait(failures: int, settings: Settings) -> int:
    """Seconds one address must wait before guessing the same account again, after ``failures`` failures."""
    free = settings.login_max_attempts_per_account
    return 0 if failures < free else min(2 ** (failures - free), settings.login_window_seconds)


KNOWN_ADDRESS_SECONDS = 30 * 24 * 3600


def _known_key(email: str, address: str) -> str:
    """Where a successful sign-in from ``address`` is remembered for a month (not the address itself in clear)."""
    return "sign-in:known:" + hashlib.sha256(f"{email}|{address}".encode()).hexdigest()


def _minutes(seconds: int) -> str:
    minutes = max(1, (seconds + 59) // 60)
    return f"{minutes} minute{'s' if minutes != 1 else ''}"


def authenticate(session: Session, *, email: str, password: str, ip: str | None,
                 settings: Settings | None = None) -> User:
    """Check credentials, throttled (``_limits``, ``_pair_wait``): an address that keeps guessing one account waits
    longer before each try, without locking its owner out elsewhere. Failed attempts are audited.

    Commits the audit row itself before raising, so a failure is recorded even though the caller's
    transaction rolls back.
    """
    settings = settings or get_settings()
    limiter = RateLimiter(get_cache(), "sign-in")
    ip_limit, anywhere_limit = _limits(settings)
    email_key, address = email.strip().lower(), ip or "unknown"
    pair, wait_key = f"pair:{email_key}:{address}", f"wait:{email_key}:{address}"
    known = get_cache().get(_known_key(email_key, address)) is not None
    checks = [(pair, limiter.peek(wait_key, Limit(1, 1))),  # present while this address must wait
              (f"ip:{address}", limiter.peek(f"ip:{address}", ip_limit))]
    if not known:  # a guessing crowd can stop new addresses, never the owner's own (where they signed in before)
        checks.append((f"account:{email_key}", limiter.peek(f"account:{email_key}", anywhere_limit)))
    blocked = [(key, verdict.retry_after) for key, verdict in checks if not verdict.allowed]
    if blocked:
        key, retry_after = blocked[0]
        audit.record(session, "auth.sign_in_blocked", ip=ip, email=email_key, reason=key.split(":")[0])
        session.commit()
        when = f"{retry_after} second{'s' if retry_after != 1 else ''}" if retry_after < 60 else _minutes(retry_after)
        raise RateLimited(f"Too many failed sign-in attempts. Try again in {when}, or reset your password.",
                          retry_after=max(1, retry_after))

    user = session.exec(select(User).where(User.email == email_key)).first()
    if not verify_password(user.password_hash if user else None, password) or (user and not user.is_active):
        failures = limiter.hit(pair, Limit(10**9, settings.login_window_seconds)).count
        wait = _pair_wait(failures, settings)
        if wait:
            limiter.hit(wait_key, Limit(1, wait))  # the next try from this address waits ``wait`` seconds
        limiter.hit(f"ip:{address}", ip_limit)
        limiter.hit(f"account:{email_key}", anywhere_limit)
        membership = _first_membership(session, user.id if user else None)
        audit.record(session, "auth.sign_in_failed", organization_id=membership.organization_id if membership else None,
                     actor_user_id=user.id if user else None, ip=ip, email=email_key)
        session.commit()
        raise NotAuthenticated("Wrong email or password.", code="invalid_credentials")
    assert user is not None
    if user.email_verified_at is None:
        raise PermissionDenied(
            f"Verify your email first: open the link we sent to {user.email}. "
            "Didn't get it? Ask for a new one with \"Resend verification email\".", code="email_not_verified")

    limiter.reset(pair)
    get_cache().set(_known_key(email_key, address), "1", ttl_seconds=KNOWN_ADDRESS_SECONDS)
    if user.password_hash and password_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    user.last_login_at = utcnow()
    membership = _first_membership(session, user.id)
    audit.record(session, "auth.sign_in", organization_id=membership.organization_id if membership else None,
                 actor_user_id=user.id, ip=ip)
    return user


def _first_membership(session: Session, user_id: int | None) -> Membership | None:
    if user_id is None:
        return None
    return session.exec(select(Membership).where(Membership.user_id == user_id).order_by(Membership.id)).first()


# ---------------------------------------------------------------- sessions

@dataclass(frozen=True)
class AuthContext:
    """Who a request acts as: a signed-in person (``user``, ``session_id``), or an API key of the organisation
    (``api_key``; no person, the key's role: services/developer/key_auth.py)."""

    user: User | None
    organization: Organization
    role: str
    session_id: int | None
    api_key: ApiKey | None = None

    @property
    def scope(self) -> Scope:
        return Scope(user_id=self.user.id if self.user else None, organization_id=self.organization.id,
                     role=self.role, via="api_key" if self.api_key is not None else "session",
                     test_mode=self.api_key is not None and self.api_key.mode == "test")


def _session_organization(session: Session, user: User, organization_id: int | None = None) -> int:
    """The organisation a new session works in: the one asked for, else the user's first."""
    stmt = select(Membership).where(Membership.user_id == user.id)
    if organization_id is not None:
        stmt = stmt.where(Membership.organization_id == organization_id)
    membership = session.exec(stmt.order_by(Membership.id)).first()
    if membership is None:
        raise PermissionDenied("Your account does not belong to any organisation any more. "
                               "Ask an admin to invite you again.", code="no_membership")
    return membership.organization_id


def create_api_session(session: Session, user: User, *, ip: str | None = None, user_agent: str | None = None,
                       organization_id: int | None = None, settings: Settings | None = None) -> tuple[UserSession, str]:
    """A bearer token for the REST API. The token is returned once; only its hash is kept."""
    settings = settings or get_settings()
    token = new_token()
    row = UserSession(user_id=user.id, organization_id=_session_organization(session, user, organization_id),
                      kind=SessionKind.API.value, token_hash=hash_token(token), ip=ip,
                      user_agent=(user_agent or "")[:400] or None,
                      expires_at=utcnow() + timedelta(hours=settings.api_token_ttl_hours))
    session.add(row)
    session.flush()
    return row, token


def create_web_ticket(session: Session, user: User, *, ip: str | None = None, user_agent: str | None = None,
                      organization_id: int | None = None) -> str:
    """A one-time ticket (valid a minute) that the browser trades for an HTTP-only session cookie.

    The UI checks credentials over its websocket, which cannot set cookies; the browser then opens
    ``/api/auth/session?ticket=…``, which sets the cookie and redirects into the app.
    """
    ticket = new_token()
    session.add(UserSession(user_id=user.id, organization_id=_session_organization(session, user, organization_id),
                            kind=SessionKind.WEB.value, ticket_hash=hash_token(ticket), ip=ip,
                            user_agent=(user_agent or "")[:400] or None,
                            expires_at=utcnow() + timedelta(seconds=WEB_TICKET_SECONDS)))
    session.flush()
    return ticket


def exchange_web_ticket(session: Session, ticket: str, settings: Settings | None = None) -> tuple[UserSession, str]:
    settings = settings or get_settings()
    row = session.exec(select(UserSession).where(UserSession.ticket_hash == hash_token(ticket))).first()
    if row is None or row.revoked_at is not None or row.expires_at <= utcnow() or row.token_hash is not None:
        raise NotAuthenticated("This sign-in link has expired. Sign in again.", code="invalid_ticket")
    token = new_token()
    row.ticket_hash = None
    row.token_hash = hash_token(token)
    row.expires_at = utcnow() + timedelta(hours=settings.session_ttl_hours)
    session.flush()
    return row, token


def resolve_token(session: Session, token: str | None) -> AuthContext | None:
    """The signed-in person behind a session cookie or bearer token, or None."""
    if not token:
        return None
    row = session.exec(select(UserSession).where(UserSession.token_hash == hash_token(token))).first()
    now = utcnow()
    if row is None or row.revoked_at is not None or row.expires_at <= now:
        return None
    user = session.get(User, row.user_id)
    membership = session.exec(select(Membership).where(Membership.user_id == row.user_id,
                                                       Membership.organization_id == row.organization_id)).first()
    org = session.get(Organization, row.organization_id)
    if user is None or not user.is_active or membership is None or org is None:
        return None
    if row.last_seen_at is None or now - row.last_seen_at > timedelta(minutes=5):
        row.last_seen_at = now
    return AuthContext(user=user, organization=org, role=membership.role, session_id=row.id)


def revoke_session(session: Session, token: str | None) -> None:
    if not token:
        return
    row = session.exec(select(UserSession).where(UserSession.token_hash == hash_token(token))).first()
    if row is not None and row.revoked_at is None:
        row.revoked_at = utcnow()
        audit.record(session, "auth.sign_out", organization_id=row.organization_id, actor_user_id=row.user_id)


def revoke_user_sessions(session: Session, user_id: int, organization_id: int | None = None) -> int:
    stmt = select(UserSession).where(UserSession.user_id == user_id, UserSession.revoked_at.is_(None))  # type: ignore[union-attr]
    if organization_id is not None:
        stmt = stmt.where(UserSession.organization_id == organization_id)
    rows = session.exec(stmt).all()
    for row in rows:
        row.revoked_at = utcnow()
    return len(rows)


# ---------------------------------------------------------------- password reset

def request_password_reset(session: Session, email: str, *, ip: str | None = None,
                           settings: Settings | None = None) -> None:
    """Emails a reset link if the account exists. Answers the same either way (no account probing)."""
    settings = settings or get_settings()
    try:
        email = normalise_email(email)
    except ValidationFailed:
        return
    user = session.exec(select(User).where(User.email == email)).first()
    if user is None or not user.is_active:
        return
    if not RateLimiter(get_cache(), "reset-mail").hit(email, Limit(max_hits=5, window_seconds=3600)).allowed:
        return
    token = _issue_email_token(session, user, TokenPurpose.RESET_PASSWORD,
                               timedelta(minutes=settings.reset_token_ttl_minutes))
    link = settings.app_link("/reset-password", token)
    send_email(session, OutgoingEmail(
        to=user.email,
        subject="Reset your Quantum Voice password",
        text=(f"Someone asked to reset the password of your Quantum Voice account.\n\n"
              f"Choose a new password here:\n{link}\n\nThe link is valid for "
              f"{settings.reset_token_ttl_minutes} minutes. If it wasn't you, ignore this email."),
        kind="reset_password",
    ), settings)
    audit.record(session, "auth.password_reset_requested", actor_user_id=user.id, ip=ip)


def reset_password(session: Session, token: str, new_password: str, *, ip: str | None = None) -> User:
    check_password(new_password)  # before the token is spent, so a weak password costs no new link
    _, user = _consume_email_token(session, token, TokenPurpose.RESET_PASSWORD)
    check_password(new_password, user.email)
    user.password_hash = hash_password(new_password)
    if user.email_verified_at is None:  # they proved they read this inbox
        user.email_verified_at = utcnow()
    revoke_user_sessions(session, user.id)  # type: ignore[arg-type]
    RateLimiter(get_cache(), "sign-in").reset(f"account:{user.email}")
    audit.record(session, "auth.password_reset", actor_user_id=user.id, ip=ip)
    return user
