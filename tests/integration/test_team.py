import pytest
from sqlmodel import select

from quantum_voice.core.errors import Conflict, NotAuthenticated, NotFound, PermissionDenied, ValidationFailed
from quantum_voice.models.accounts import Invitation, Membership, Role
from quantum_voice.models.system import AuditLog, EmailMessage
from quantum_voice.services import accounts, team
from tests.factories import PASSWORD, add_member, last_link, repo_for, verified_owner


def _membership(session, user) -> Membership:
    return session.exec(select(Membership).where(Membership.user_id == user.id)).one()


def test_invitation_email_lets_a_new_person_join_with_the_role(session):
    owner, org = verified_owner(session)
    invitation, _ = team.invite(repo_for(session, owner), email="Sam@Example.com", role="agent", ip="1.1.1.1")
    mail = session.exec(select(EmailMessage).where(EmailMessage.kind == "invitation")).one()
    assert mail.to_address == "sam@example.com" and org.name in mail.subject
    token = last_link(session, "sam@example.com", "/accept-invite")
    info = team.describe_invitation(session, token)
    assert (info.email, info.role, info.organization_name, info.account_exists) == (
        "sam@example.com", "agent", org.name, False)
    sam = team.accept_invitation(session, token, password=PASSWORD, full_name="Sam Agent")
    assert sam.email_verified_at is not None  # the link proves the inbox
    assert _membership(session, sam).role == "agent"
    assert accounts.authenticate(session, email="sam@example.com", password=PASSWORD, ip=None).id == sam.id
    with pytest.raises(ValidationFailed):
        team.accept_invitation(session, token, password=PASSWORD)
    actions = [a.action for a in session.exec(select(AuditLog)).all()]
    assert "team.invite" in actions and "team.invite_accepted" in actions
    assert invitation.accepted_at is not None


def test_an_existing_account_confirms_its_password_to_join(session):
    owner_a, _ = verified_owner(session, "a@example.com", "Org A")
    owner_b, org_b = verified_owner(session, "b@example.com", "Org B")
    _, token = team.invite(repo_for(session, owner_b), email="a@example.com", role="manager")
    assert team.describe_invitation(session, token).account_exists
    with pytest.raises(NotAuthenticated):
        team.accept_invitation(session, token, password="not-the-password")
    team.accept_invitation(session, token, password=PASSWORD)
    roles = {m.organization_id: m.role for m in session.exec(select(Membership).where(
        Membership.user_id == owner_a.id)).all()}
    assert roles[org_b.id] == "manager" and len(roles) == 2


def test_inviting_a_member_again_conflicts_and_a_new_invite_replaces_the_old_link(session):
    owner, _ = verified_owner(session)
    add_member(session, owner, "sam@example.com", Role.VIEWER)
    with pytest.raises(Conflict):
        team.invite(repo_for(session, owner), email="sam@example.com", role="admin")
    _, first = team.invite(repo_for(session, owner), email="kim@example.com", role="viewer")
    _, second = team.invite(repo_for(session, owner), email="kim@example.com", role="manager")
    with pytest.raises(ValidationFailed):
        team.describe_invitation(session, first)
    assert team.describe_invitation(session, second).role == "manager"
    assert [i.email for i in team.list_invitations(repo_for(session, owner))] == ["kim@example.com"]


def test_invalid_role_is_rejected_with_the_choices(session):
    owner, _ = verified_owner(session)
    with pytest.raises(ValidationFailed) as err:
        team.invite(repo_for(session, owner), email="x@example.com", role="superuser")
    assert err.value.field == "role" and "viewer" in err.value.message


@pytest.mark.parametrize("role", ["manager", "agent", "viewer"])
def test_only_owners_and_admins_manage_the_team(session, role):
    owner, _ = verified_owner(session)
    member = add_member(session, owner, "m@example.com", role)
    repo = repo_for(session, member)
    with pytest.raises(PermissionDenied):
        team.invite(repo, email="x@example.com", role="viewer")
    with pytest.raises(PermissionDenied):
        team.change_role(repo, _membership(session, owner).id, "viewer")
    with pytest.raises(PermissionDenied):
        team.remove_member(repo, _membership(session, owner).id)


def test_admins_cannot_make_or_remove_owners(session):
    owner, _ = verified_owner(session)
    admin = add_member(session, owner, "admin@example.com", Role.ADMIN)
    viewer = add_member(session, owner, "v@example.com", Role.VIEWER)
    repo = repo_for(session, admin)
    with pytest.raises(PermissionDenied):
        team.invite(repo, email="new@example.com", role="owner")
    with pytest.raises(PermissionDenied):
        team.change_role(repo, _membership(session, viewer).id, "owner")
    with pytest.raises(PermissionDenied):
        team.remove_member(repo, _membership(session, owner).id)
    assert team.change_role(repo, _membership(session, viewer).id, "manager").role == "manager"


def test_the_last_owner_can_be_neither_demoted_nor_removed(session):
    owner, _ = verified_owner(session)
    repo = repo_for(session, owner)
    mine = _membership(session, owner).id
    with pytest.raises(Conflict) as err:
        team.change_role(repo, mine, "admin")
    assert err.value.code == "last_owner"
    with pytest.raises(Conflict):
        team.remove_member(repo, mine)
    second = add_member(session, owner, "co@example.com", Role.OWNER)
    team.change_role(repo, mine, "admin")  # allowed now: another owner exists
    with pytest.raises(Conflict):
        team.remove_member(repo_for(session, second), _membership(session, second).id)


def test_removing_a_member_signs_them_out_and_is_audited(session):
    owner, _ = verified_owner(session)
    sam = add_member(session, owner, "sam@example.com", Role.AGENT)
    _, token = accounts.create_api_session(session, sam)
    team.remove_member(repo_for(session, owner), _membership(session, sam).id, ip="2.2.2.2")
    assert accounts.resolve_token(session, token) is None
    entry = session.exec(select(AuditLog).where(AuditLog.action == "team.member_removed")).one()
    assert entry.details["user_id"] == sam.id and entry.ip == "2.2.2.2"


def test_role_change_is_audited_with_old_and_new_role(session):
    owner, _ = verified_owner(session)
    sam = add_member(session, owner, "sam@example.com", Role.AGENT)
    team.change_role(repo_for(session, owner), _membership(session, sam).id, "manager")
    entry = session.exec(select(AuditLog).where(AuditLog.action == "team.role_changed")).one()
    assert (entry.details["old_role"], entry.details["new_role"]) == ("agent", "manager")


def test_revoked_invitation_cannot_be_accepted(session):
    owner, _ = verified_owner(session)
    invitation, token = team.invite(repo_for(session, owner), email="x@example.com", role="viewer")
    team.revoke_invitation(repo_for(session, owner), invitation.id)
    with pytest.raises(ValidationFailed):
        team.accept_invitation(session, token, password=PASSWORD)
    assert session.get(Invitation, invitation.id).revoked_at is not None


def test_members_of_another_organisation_are_not_found(session):
    owner_a, _ = verified_owner(session, "a@example.com", "Org A")
    owner_b, _ = verified_owner(session, "b@example.com", "Org B")
    b_membership = _membership(session, owner_b).id
    with pytest.raises(NotFound):
        team.change_role(repo_for(session, owner_a), b_membership, "viewer")
    with pytest.raises(NotFound):
        team.remove_member(repo_for(session, owner_a), b_membership)
    assert [m.email for m in team.list_members(repo_for(session, owner_a))] == ["a@example.com"]


def test_joining_a_second_organisation_can_sign_into_it(session):
    owner_a, org_a = verified_owner(session, "a@example.com", "Org A")
    owner_b, org_b = verified_owner(session, "b@example.com", "Org B")
    _, token = team.invite(repo_for(session, owner_b), email="a@example.com", role="viewer")
    joining = team.describe_invitation(session, token).organization_id
    user = team.accept_invitation(session, token, password=PASSWORD)
    ticket = accounts.create_web_ticket(session, user, organization_id=joining)
    _, cookie_token = accounts.exchange_web_ticket(session, ticket)
    ctx = accounts.resolve_token(session, cookie_token)
    assert (ctx.organization.id, ctx.role) == (org_b.id, "viewer")
    _, default_token = accounts.create_api_session(session, user)
    assert accounts.resolve_token(session, default_token).organization.id == org_a.id
    with pytest.raises(PermissionDenied):  # not a member there
        accounts.create_api_session(session, owner_b, organization_id=org_a.id)
