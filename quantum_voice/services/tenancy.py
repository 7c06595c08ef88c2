"""The one data-access layer for organisation-owned data.

Every read and write made on behalf of a signed-in person goes through an ``OrgRepository`` bound to
their ``Scope``: queries are filtered to the caller's organisation, rows of another organisation are
"not found" (never "forbidden", which would confirm they exist), and writes are stamped with the
caller's organisation.

A test-mode API key's scope (``test_mode``) narrows it further: calls and leads (the rows with ``is_test``) are
its test ones only, the rest "not found", and what it creates is test data. Campaigns, knowledge and flows are
configuration both modes share; hand-offs and webhooks are refused to test keys (services/developer/scopes.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, TypeVar

from sqlmodel import Session, SQLModel, func, select

from quantum_voice.core.errors import NotFound
from quantum_voice.services.permissions import Permission, require

T = TypeVar("T", bound=SQLModel)


@dataclass(frozen=True)
class Scope:
    """Who is acting, for which organisation, with which role."""

    user_id: int | None
    organization_id: int
    role: str
    via: str = "session"  # session | api_token | api_key | system
    test_mode: bool = False  # a test-mode API key: sees and makes test data only

    def require(self, permission: Permission) -> None:
        require(self.role, permission)


def _org_column(model: type[SQLModel]):
    column = getattr(model, "organization_id", None)
    if column is None:
        raise TypeError(f"{model.__name__} is not organisation-owned; it cannot go through OrgRepository")
    return column


def _test_only(model: type[SQLModel]) -> list[Any]:
    column = getattr(model, "is_test", None)
    return [column.is_(True)] if column is not None else []


class OrgRepository:
    def __init__(self, session: Session, scope: Scope):
        self.session = session
        self.scope = scope

    def _mode(self, model: type[SQLModel]) -> list[Any]:
        return _test_only(model) if self.scope.test_mode else []

    def select(self, model: type[T]):
        return select(model).where(_org_column(model) == self.scope.organization_id, *self._mode(model))

    def get(self, model: type[T], id_: Any) -> T:
        row = self.session.exec(self.select(model).where(model.id == id_)).first()  # type: ignore[attr-defined]
        if row is None:
            raise NotFound(f"No {model.__name__.lower()} with id {id_} in your organisation.")
        return row

    def list(self, model: type[T], *where: Any, order_by: Any = None, limit: int = 100, offset: int = 0) -> list[T]:
        stmt = self.select(model).where(*where)
        if order_by is not None:
            stmt = stmt.order_by(order_by)
        return list(self.session.exec(stmt.offset(offset).limit(limit)).all())

    def count(self, model: type[T], *where: Any) -> int:
        stmt = select(func.count()).select_from(model).where(_org_column(model) == self.scope.organization_id,
                                                             *self._mode(model), *where)
        return int(self.session.exec(stmt).one())

    def add(self, obj: T) -> T:
        _org_column(type(obj))
        obj.organization_id = self.scope.organization_id  # type: ignore[attr-defined]
        if self.scope.test_mode and hasattr(obj, "is_test"):
            obj.is_test = True  # type: ignore[attr-defined]
        self.session.add(obj)
        self.session.flush()
        return obj

    def delete(self, obj: SQLModel) -> None:
        if getattr(obj, "organization_id", None) != self.scope.organization_id or (
                self.scope.test_mode and getattr(obj, "is_test", True) is False):
            raise NotFound("Not found in your organisation.")
        self.session.delete(obj)
        self.session.flush()
