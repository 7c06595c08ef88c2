import pytest

from quantum_voice.core.errors import PermissionDenied
from quantum_voice.services.permissions import Permission, has_permission, require


@pytest.mark.parametrize("role,permission,allowed", [
    ("owner", Permission.GRANT_OWNER, True),
    ("admin", Permission.GRANT_OWNER, False),
    ("admin", Permission.MANAGE_TEAM, True),
    ("manager", Permission.MANAGE_TEAM, False),
    ("manager", Permission.MANAGE_CAMPAIGNS, True),
    ("agent", Permission.MANAGE_CAMPAIGNS, False),
    ("agent", Permission.WORK_CALLS, True),
    ("viewer", Permission.WORK_CALLS, False),
    ("viewer", Permission.VIEW, True),
    ("viewer", Permission.VIEW_ADMIN, False),
])
def test_role_matrix(role, permission, allowed):
    assert has_permission(role, permission) is allowed


def test_denial_names_the_role_and_what_to_do():
    with pytest.raises(PermissionDenied) as err:
        require("viewer", Permission.MANAGE_TEAM)
    assert "viewer" in err.value.message and "owner or admin" in err.value.message
