"""Browser WebSockets relayed to a voice sidecar: the call page's socket (``public_calls``) and the agent's audio
(``handoff_audio``). ``relay`` carries both directions until either side closes (or one of ``also`` returns: the
agent's audio stops when the hand-off is no longer theirs); ``refuse`` answers a socket that may not go on with
the JSON error and closes it (1008 refused, 1011 try again later)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable

from fastapi import WebSocket, WebSocketDisconnect

from quantum_voice.services import media


async def relay(browser: WebSocket, sidecar: media.SidecarSocket, *, max_bytes: int | None = None,
                max_text: int | None = None, also: tuple[Awaitable[None], ...] = ()) -> None:
    """Both directions until either side closes. A message over ``max_bytes`` (binary) or ``max_text`` closes the
    browser's socket with 1009 (it is not sending what it should)."""
    async def up() -> None:
        while True:
            message = await browser.receive()
            if message["type"] == "websocket.disconnect":
                return
            data = message.get("bytes") if message.get("bytes") is not None else message.get("text")
            if data is None:
                continue
            limit = max_bytes if isinstance(data, bytes) else max_text
            if limit is not None and len(data) > limit:
                await browser.close(code=1009)
                return
            await sidecar.send(data)

    async def down() -> None:
        while (data := await sidecar.receive()) is not None:
            await (browser.send_bytes(data) if isinstance(data, bytes) else browser.send_text(data))

    directions = [asyncio.ensure_future(up()), asyncio.ensure_future(down()), *map(asyncio.ensure_future, also)]
    try:
        await asyncio.wait(directions, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for direction in directions:
            direction.cancel()
        await asyncio.gather(*directions, return_exceptions=True)
    try:
        await browser.close()
    except (RuntimeError, WebSocketDisconnect):
        pass  # the browser left first


async def refuse(websocket: WebSocket, status: int, code: str, message: str) -> None:
    try:
        await websocket.send_json({"type": "error", "status": status, "code": code, "message": message})
        await websocket.close(code=1011 if status >= 500 else 1008)
    except (RuntimeError, WebSocketDisconnect):
        pass  # the browser left first
