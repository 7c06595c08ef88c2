"""api keys: where a key was last used from, and which key it replaced by rotation

- ``api_keys.last_used_ip``: the address of the key's last use (written with ``last_used_at``, at most once a
  minute per key: ``services/developer/key_auth.py``);
- ``api_keys.rotated_from_id``: the key this one replaced (``services/developer/api_keys.py`` ``rotate_key``).

Revision ID: 0010_api_keys
Revises: 0009_handoff_queue
"""
from typing import Sequence, Union

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0010_api_keys"
down_revision: Union[str, None] = "0009_handoff_queue"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    with op.batch_alter_table("api_keys") as batch:
        batch.add_column(sa.Column("last_used_ip", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True))
        batch.add_column(sa.Column("rotated_from_id", sa.Integer(), nullable=True))
        batch.create_foreign_key("fk_api_keys_rotated_from_id_api_keys", "api_keys", ["rotated_from_id"], ["id"],
                                 ondelete="SET NULL")


def downgrade() -> None:
    with op.batch_alter_table("api_keys") as batch:
        batch.drop_constraint("fk_api_keys_rotated_from_id_api_keys", type_="foreignkey")
        batch.drop_column("rotated_from_id")
        batch.drop_column("last_used_ip")
