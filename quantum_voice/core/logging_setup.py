"""Send the project's own log records (``quantum_voice.*`` and the voice sidecar's ``agent.*``) to stderr at
LOG_LEVEL, whatever the server set up."""

from __future__ import annotations

import logging

from quantum_voice.core.config import get_settings

_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def configure_logging() -> None:
    for name in ("quantum_voice", "agent"):
        logger = logging.getLogger(name)
        if any(getattr(h, "_quantum_voice", False) for h in logger.handlers):
            continue
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter(_FORMAT))
        handler._quantum_voice = True  # type: ignore[attr-defined]
        logger.addHandler(handler)
        logger.setLevel(get_settings().log_level.upper())
        logger.propagate = False
