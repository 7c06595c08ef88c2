"""Secrets kept in the database (integration tokens and API keys), encrypted with a key derived from SECRET_KEY.

Fernet (AES-128-CBC + HMAC-SHA256) under a key that HKDF-SHA256 derives from SECRET_KEY with a purpose label, so
the signing key itself never encrypts anything and another purpose can derive its own key. Changing SECRET_KEY
makes stored secrets unreadable: the integrations must be connected again.
"""

from __future__ import annotations

import base64
import json
from typing import Any

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from quantum_voice.core.config import get_settings

_PURPOSE = b"quantum-voice/integration-secrets/v1"


class SecretUnreadable(Exception):
    """The ciphertext was made under another SECRET_KEY (or was altered)."""


def _fernet(secret_key: str | None = None) -> Fernet:
    key_material = (secret_key or get_settings().effective_secret_key).encode()
    derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_PURPOSE).derive(key_material)
    return Fernet(base64.urlsafe_b64encode(derived))


def encrypt_secrets(values: dict[str, Any], *, secret_key: str | None = None) -> str:
    return _fernet(secret_key).encrypt(json.dumps(values, sort_keys=True).encode()).decode()


def decrypt_secrets(ciphertext: str | None, *, secret_key: str | None = None) -> dict[str, Any]:
    if not ciphertext:
        return {}
    try:
        return json.loads(_fernet(secret_key).decrypt(ciphertext.encode()))
    except InvalidToken as exc:
        raise SecretUnreadable("stored secrets cannot be decrypted with this SECRET_KEY") from exc
