"""``?limit=`` and ``?cursor=`` on the API's lists. The body stays a plain JSON list, as it always was; the cursor
of the next batch comes in the ``X-Next-Cursor`` header and a ``Link: <…>; rel="next"`` header, and neither is
sent with the last batch. Cursors themselves: services/paging.py (a tampered one is a 422 ``invalid_cursor``)."""

from __future__ import annotations

from typing import Annotated, Any, TypeVar

from fastapi import Query, Request, Response

from quantum_voice.core.errors import ValidationFailed
from quantum_voice.services import paging

T = TypeVar("T")

Limit = Annotated[int, Query(ge=1, le=paging.MAX_LIMIT,
                             description=f"How many items at most (1 to {paging.MAX_LIMIT})")]
Cursor = Annotated[str | None, Query(max_length=500, description="X-Next-Cursor of the batch before; none for "
                                                                 "the first batch")]

NEXT_HEADERS: dict[int | str, dict[str, Any]] = {200: {"headers": {
    "X-Next-Cursor": {"description": "Send it as ?cursor= for the next batch; absent on the last batch",
                      "schema": {"type": "string"}},
    "Link": {"description": "The next batch's address: <…>; rel=\"next\"; absent on the last batch",
             "schema": {"type": "string"}},
}}}


def key_of(cursor: str | None, *kinds: type) -> tuple | None:
    return paging.read_cursor(cursor, *kinds) if cursor else None


def no_offset_with(cursor: str | None, offset: int) -> None:
    if cursor and offset:
        raise ValidationFailed("Send cursor or offset, not both: the cursor already says where to go on.",
                               field="offset")


def sent(request: Request, response: Response, batch: paging.Batch[T]) -> list[T]:
    """The batch's items, with its next cursor in the headers."""
    if batch.next_cursor:
        response.headers["X-Next-Cursor"] = batch.next_cursor
        response.headers["Link"] = f'<{request.url.include_query_params(cursor=batch.next_cursor)}>; rel="next"'
    return batch.items
