"""The REST API (developer portal's public API), mounted into the Reflex app under /api."""

from quantum_voice.api.app import create_api

__all__ = ["create_api"]
