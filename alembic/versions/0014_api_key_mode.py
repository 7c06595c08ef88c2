"""test mode: API keys are live or test, and webhook endpoints choose whether they get test data's events

- ``api_keys.mode`` (``live`` | ``test``) replaces ``api_keys.is_sandbox``, which nothing set (every key was live).
  A test key (``qv_test_…``) sees and makes test calls and test leads only (services/developer/key_auth.py).
- ``webhooks.test_events``: the endpoint also gets events of test data, marked ``"livemode": false``. Off for every
  existing endpoint, so none starts receiving events it did not get before.

Revision ID: 0014_api_key_mode
Revises: 0013_analytics_indexes
"""
from typing import Sequence, Union

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0014_api_key_mode"
down_revision: Union[str, None] = "0013_analytics_indexes"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    with op.batch_alter_table("api_keys") as batch:
        batch.add_column(sa.Column("mode", sqlmodel.sql.sqltypes.AutoString(length=4), nullable=False,
                                   server_default="live"))
        batch.drop_column("is_sandbox")
    with op.batch_alter_table("api_keys") as batch:
        batch.alter_column("mode", server_default=None)
    with op.batch_alter_table("webhooks") as batch:
        batch.add_column(sa.Column("test_events", sa.Boolean(), nullable=False, server_default=sa.false()))
    with op.batch_alter_table("webhooks") as batch:
        batch.alter_column("test_events", server_default=None)


def downgrade() -> None:
    with op.batch_alter_table("webhooks") as batch:
        batch.drop_column("test_events")
    with op.batch_alter_table("api_keys") as batch:
        batch.add_column(sa.Column("is_sandbox", sa.Boolean(), nullable=False, server_default=sa.false()))
    op.execute("UPDATE api_keys SET is_sandbox = (mode = 'test')")
    with op.batch_alter_table("api_keys") as batch:
        batch.alter_column("is_sandbox", server_default=None)
        batch.drop_column("mode")
