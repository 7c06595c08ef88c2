from datetime import timedelta

import pytest
from sqlmodel import select

from quantum_voice.core.clock import set_clock, utcnow
from quantum_voice.core.errors import Conflict, NotAuthenticated, PermissionDenied, RateLimited, ValidationFailed
from quantum_voice.models.accounts import Membership, Organization, Role, User, UserSession
from quantum_voice.models.system import AuditLog, EmailMessage
from quantum_voice.services import accounts
from tests.factories import PASSWORD, last_link, verified_owner


def _actions(session) -> list[str]:
    return [a.action for a in session.exec(select(AuditLog).order_by(AuditLog.id)).all()]


def test_signup_creates_organisation_owner_and_verification_email(session):
    result = accounts.signup(session, email="  Ana@Example.COM ", password=PASSWORD, organization_name="Sunny Solar")
    assert result.user.email == "ana@example.com"
    assert result.user.password_hash.startswith("$argon2id$")
    assert result.user.email_verified_at is None
    assert result.organization.slug == "sunny-solar"
    membership = session.exec(select(Membership)).one()
    assert (membership.user_id, membership.organization_id, membership.role) == (
        result.user.id, result.organization.id, Role.OWNER.value)
    mail = session.exec(select(EmailMessage)).one()
    assert mail.to_address == "ana@example.com" and mail.kind == "verify_email" and mail.status == "logged"
    assert "/verify?token=" in mail.body_text
    assert "auth.sign_up" in _actions(session)


def test_signup_rejects_bad_input_naming_the_field(session):
    with pytest.raises(ValidationFailed) as err:
        accounts.signup(session, email="not-an-email", password=PASSWORD, organization_name="X")
    assert err.value.field == "email"
    with pytest.raises(ValidationFailed) as err:
        accounts.signup(session, email="a@b.co", password="short", organization_name="X")
    assert err.value.field == "password" and "10 characters" in err.value.message
    with pytest.raises(ValidationFailed) as err:
        accounts.signup(session, email="a@b.co", password=PASSWORD, organization_name="   ")
    assert err.value.field == "organization"


def test_signup_twice_with_one_email_conflicts(session):
    accounts.signup(session, email="a@b.co", password=PASSWORD, organization_name="One")
    with pytest.raises(Conflict) as err:
        accounts.signup(session, email="A@b.co", password=PASSWORD, organization_name="Two")
    assert err.value.code == "email_taken"


def test_organisation_slugs_stay_unique(session):
    accounts.signup(session, email="a@b.co", password=PASSWORD, organization_name="Acme")
    second = accounts.signup(session, email="c@d.co", password=PASSWORD, organization_name="ACME!")
    assert second.organization.slug == "acme-2"


def test_verification_link_works_once(session):
    result = accounts.signup(session, email="a@b.co", password=PASSWORD, organization_name="Acme")
    token = last_link(session, "a@b.co", "/verify")
    assert accounts.verify_email(session, token).email_verified_at is not None
    with pytest.raises(ValidationFailed) as err:
        accounts.verify_email(session, token)
    assert err.value.code == "token_used"
    with pytest.raises(ValidationFailed) as err:
        accounts.verify_email(session, "made-up-token")
    assert err.value.code == "invalid_token"
    assert result.user.id is not None


def test_verification_link_expires(session):
    accounts.signup(session, email="a@b.co", password=PASSWORD, organization_name="Acme")
    token = last_link(session, "a@b.co", "/verify")
    later = utcnow() + timedelta(days=3)
    set_clock(lambda: later)
    with pytest.raises(ValidationFailed) as err:
        accounts.verify_email(session, token)
    assert err.value.code == "token_expired" and "Request a new one" in err.value.message


def test_sign_in_needs_a_verified_email(session):
    accounts.signup(session, email="a@b.co", password=PASSWORD, organization_name="Acme")
    with pytest.raises(PermissionDenied) as err:
        accounts.authenticate(session, email="a@b.co", password=PASSWORD, ip="1.2.3.4")
    assert err.value.code == "email_not_verified"
    accounts.resend_verification(session, "a@b.co")
    assert len(session.exec(select(EmailMessage).where(EmailMessage.kind == "verify_email")).all()) == 2


def test_sign_in_succeeds_and_is_audited(session):
    user, org = verified_owner(session)
    signed_in = accounts.authenticate(session, email="OWNER@example.com", password=PASSWORD, ip="1.2.3.4")
    assert signed_in.id == user.id and signed_in.last_login_at is not None
    entry = session.exec(select(AuditLog).where(AuditLog.action == "auth.sign_in")).one()
    assert (entry.organization_id, entry.actor_user_id, entry.ip) == (org.id, user.id, "1.2.3.4")


def test_wrong_password_and_unknown_account_fail_alike_and_are_audited(session):
    verified_owner(session)
    for email in ("owner@example.com", "nobody@example.com"):
        with pytest.raises(NotAuthenticated) as err:
            accounts.authenticate(session, email=email, password="wrong-password-1", ip="1.2.3.4")
        assert err.value.message == "Wrong email or password."
    assert _actions(session).count("auth.sign_in_failed") == 2


def test_an_address_guessing_one_account_waits_longer_each_time_but_locks_no_one_else_out(session, settings):
    verified_owner(session)
    for _ in range(settings.login_max_attempts_per_account):
        with pytest.raises(NotAuthenticated):
            accounts.authenticate(session, email="owner@example.com", password="wrong-password-1", ip="10.0.0.1")
    # The guessing address waits before its next try, even with the right password...
    with pytest.raises(RateLimited) as err:
        accounts.authenticate(session, email="owner@example.com", password=PASSWORD, ip="10.0.0.1")
    assert "Too many failed sign-in attempts" in err.value.message and 0 < err.value.retry_after <= 2
    assert "auth.sign_in_blocked" in _actions(session)
    # ...while the owner, from their own address, signs in as usual
    assert accounts.authenticate(session, email="owner@example.com", password=PASSWORD, ip="10.0.0.2")


def test_the_wait_doubles_with_each_failure_up_to_the_window(settings):
    free = settings.login_max_attempts_per_account
    waits = [accounts._pair_wait(n, settings) for n in range(free - 1, free + 12)]
    assert waits[:4] == [0, 1, 2, 4] and waits[-1] == settings.login_window_seconds
    assert all(a <= b for a, b in zip(waits, waits[1:]))


def test_one_account_guessed_from_everywhere_is_capped_but_its_owner_gets_in(session, settings, monkeypatch):
    monkeypatch.setattr(settings, "login_max_attempts_per_account_anywhere", 3)
    verified_owner(session)
    accounts.authenticate(session, email="owner@example.com", password=PASSWORD, ip="10.0.9.9", settings=settings)
    for n in range(3):
        with pytest.raises(NotAuthenticated):
            accounts.authenticate(session, email="owner@example.com", password="wrong-password-1", ip=f"10.0.1.{n}",
                                  settings=settings)
    with pytest.raises(RateLimited):  # a new address must wait out the crowd
        accounts.authenticate(session, email="owner@example.com", password=PASSWORD, ip="10.0.2.1", settings=settings)
    # the owner's own address, where they signed in before, is not locked out by others' guesses
    assert accounts.authenticate(session, email="owner@example.com", password=PASSWORD, ip="10.0.9.9",
                                 settings=settings).email == "owner@example.com"


def test_sign_in_is_throttled_per_ip(session, settings, monkeypatch):
    monkeypatch.setattr(settings, "login_max_attempts_per_ip", 3)
    verified_owner(session)
    for n in range(3):
        with pytest.raises(NotAuthenticated):
            accounts.authenticate(session, email=f"guess{n}@example.com", password="wrong-password-1", ip="10.9.9.9",
                                  settings=settings)
    with pytest.raises(RateLimited):
        accounts.authenticate(session, email="owner@example.com", password=PASSWORD, ip="10.9.9.9", settings=settings)
    assert accounts.authenticate(session, email="owner@example.com", password=PASSWORD, ip="10.1.1.1",
                                 settings=settings).email == "owner@example.com"


def test_api_session_token_resolves_to_user_org_and_role(session):
    user, org = verified_owner(session)
    row, token = accounts.create_api_session(session, user, ip="1.2.3.4")
    assert row.token_hash != token  # only the hash is stored
    ctx = accounts.resolve_token(session, token)
    assert (ctx.user.id, ctx.organization.id, ctx.role) == (user.id, org.id, "owner")
    accounts.revoke_session(session, token)
    assert accounts.resolve_token(session, token) is None
    assert accounts.resolve_token(session, "garbage") is None


def test_session_expires(session, settings):
    user, _ = verified_owner(session)
    _, token = accounts.create_api_session(session, user)
    later = utcnow() + timedelta(hours=settings.api_token_ttl_hours + 1)
    set_clock(lambda: later)
    assert accounts.resolve_token(session, token) is None


def test_web_ticket_is_traded_once_for_a_cookie_token(session):
    user, _ = verified_owner(session)
    ticket = accounts.create_web_ticket(session, user, ip="1.2.3.4", user_agent="pytest")
    row, token = accounts.exchange_web_ticket(session, ticket)
    assert row.kind == "web" and row.ticket_hash is None
    assert accounts.resolve_token(session, token).user.id == user.id
    assert accounts.resolve_token(session, ticket) is None  # the ticket itself never signs anyone in
    with pytest.raises(NotAuthenticated):
        accounts.exchange_web_ticket(session, ticket)


def test_web_ticket_expires_after_a_minute(session):
    user, _ = verified_owner(session)
    ticket = accounts.create_web_ticket(session, user)
    later = utcnow() + timedelta(seconds=accounts.WEB_TICKET_SECONDS + 1)
    set_clock(lambda: later)
    with pytest.raises(NotAuthenticated):
        accounts.exchange_web_ticket(session, ticket)


def test_password_reset_changes_password_and_signs_out_everywhere(session):
    user, _ = verified_owner(session)
    _, old_token = accounts.create_api_session(session, user)
    accounts.request_password_reset(session, "owner@example.com", ip="1.2.3.4")
    token = last_link(session, "owner@example.com", "/reset-password")
    with pytest.raises(ValidationFailed):
        accounts.reset_password(session, token, "short")
    accounts.reset_password(session, token, "a-brand-new-password")
    assert accounts.resolve_token(session, old_token) is None
    assert accounts.authenticate(session, email="owner@example.com", password="a-brand-new-password", ip=None)
    with pytest.raises(NotAuthenticated):
        accounts.authenticate(session, email="owner@example.com", password=PASSWORD, ip=None)
    with pytest.raises(ValidationFailed):
        accounts.reset_password(session, token, "yet-another-password")


def test_password_reset_for_unknown_email_sends_nothing(session):
    accounts.request_password_reset(session, "ghost@example.org")
    accounts.request_password_reset(session, "not even an email")
    assert session.exec(select(EmailMessage)).all() == []


def test_removed_membership_invalidates_the_session(session):
    user, org = verified_owner(session)
    _, token = accounts.create_api_session(session, user)
    session.delete(session.exec(select(Membership)).one())
    session.flush()
    assert accounts.resolve_token(session, token) is None
    assert session.exec(select(UserSession)).one().user_id == user.id
    assert session.get(Organization, org.id) and session.get(User, user.id)


@pytest.mark.parametrize("weak", ["password12", "1234567890", "qwertyuiop", "P@ssw0rd123"])
def test_common_and_keyboard_passwords_are_refused_with_the_reason(session, weak):
    with pytest.raises(ValidationFailed) as err:
        accounts.signup(session, email="a@b.co", password=weak, organization_name="X")
    assert err.value.field == "password" and "too easy to guess" in err.value.message


@pytest.mark.parametrize("strong", ["correct horse battery", "tr0ub4dor&3x", "a-brand-new-password"])
def test_passphrases_are_accepted(session, strong):
    assert accounts.signup(session, email="a@b.co", password=strong, organization_name="X").user.id


def test_signing_up_answers_the_same_whether_or_not_the_address_has_an_account(session):
    from sqlmodel import select

    from quantum_voice.models.accounts import Organization
    from quantum_voice.models.system import EmailMessage

    verified_owner(session, email="ana@example.com", org="Sunny Solar")
    again = accounts.register(session, email="Ana@Example.com", password=PASSWORD, organization_name="Copycat")
    fresh = accounts.register(session, email="ben@example.com", password=PASSWORD, organization_name="Ben Co")
    assert (again, fresh) == ("ana@example.com", "ben@example.com")
    assert [o.name for o in session.exec(select(Organization).order_by(Organization.id))] == ["Sunny Solar", "Ben Co"]
    note = session.exec(select(EmailMessage).where(EmailMessage.kind == "account_exists")).one()
    assert note.to_address == "ana@example.com" and "/forgot-password" in note.body_text and "token=" not in note.body_text
    assert "auth.sign_up_existing" in _actions(session)


def test_signing_up_with_an_existing_address_does_a_new_accounts_costly_work(session, monkeypatch):
    """The probe timed sign-up: 8-15 ms for an existing address, 131-161 ms for a new one (its password hash).
    Both paths now hash the password once and send one email, so the time tells nothing."""
    from quantum_voice.core import security

    verified_owner(session, email="ana@example.com", org="Sunny Solar")
    hashed: list[str] = []

    def counted_hash(password: str) -> str:  # the real (argon2) hash, counted
        hashed.append(password)
        return security.hash_password(password)

    monkeypatch.setattr(accounts, "hash_password", counted_hash)
    work = {}
    for email in ("ana@example.com", "ben@example.com"):
        hashed.clear()
        mails = len(session.exec(select(EmailMessage)).all())
        accounts.register(session, email=email, password=PASSWORD, organization_name="Copycat")
        work[email] = (len(hashed), len(session.exec(select(EmailMessage)).all()) - mails)
    assert work == {"ana@example.com": (1, 1), "ben@example.com": (1, 1)}, "one hash and one email on each path"


def test_sign_ups_are_limited_per_address(session, settings, monkeypatch):
    monkeypatch.setattr(settings, "signup_max_per_ip_per_hour", 2)
    for n in range(2):
        accounts.register(session, email=f"u{n}@example.com", password=PASSWORD, organization_name="X",
                          ip="10.3.3.3", settings=settings)
    with pytest.raises(RateLimited) as err:
        accounts.register(session, email="u9@example.com", password=PASSWORD, organization_name="X", ip="10.3.3.3",
                          settings=settings)
    assert err.value.retry_after > 0
    assert accounts.register(session, email="u9@example.com", password=PASSWORD, organization_name="X",
                             ip="10.4.4.4", settings=settings) == "u9@example.com"
