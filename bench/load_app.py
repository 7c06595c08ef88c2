"""The app's REST API as ``python -m bench.load`` serves it: ``create_api()`` (what the Reflex app mounts under
/api) with the app's own lifespan tasks (``quantum_voice/quantum_voice.py``): the job worker thread, the intent
model and parser warmed up, and room for requests waiting on the database. Served by granian
(``granian --interface asgi --factory bench.load_app:create_app``), the server Reflex itself runs in production;
the Reflex UI (pages, its socket.io state channel) is not part of it."""

from __future__ import annotations

import threading
from contextlib import asynccontextmanager


def create_app():
    from quantum_voice.api import create_api
    from quantum_voice.core.db import make_room_for_waiting_requests
    from quantum_voice.core.logging_setup import configure_logging

    configure_logging()
    api = create_api()

    @asynccontextmanager
    async def lifespan(_app):
        from quantum_voice.services.flows import semantic
        from quantum_voice.services.knowledge import grammar
        from quantum_voice.worker import start_background_worker, stop_background_worker

        make_room_for_waiting_requests()  # in the server's event loop, as the app's lifespan task
        start_background_worker()

        def warm_up() -> None:
            semantic.warm_up()
            grammar.warm_up()

        threading.Thread(target=warm_up, name="models-warm-up", daemon=True).start()
        try:
            yield
        finally:
            stop_background_worker()

    api.router.lifespan_context = lifespan
    return api
