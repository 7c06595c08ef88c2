"""Integration secrets are encrypted under a key derived from SECRET_KEY."""

import pytest

from quantum_voice.core.secretbox import SecretUnreadable, decrypt_secrets, encrypt_secrets


def test_secrets_round_trip_and_the_ciphertext_holds_no_plaintext():
    ciphertext = encrypt_secrets({"bot_token": "xoxb-very-secret"}, secret_key="k1" * 20)
    assert "xoxb" not in ciphertext and "secret" not in ciphertext
    assert decrypt_secrets(ciphertext, secret_key="k1" * 20) == {"bot_token": "xoxb-very-secret"}


def test_each_encryption_differs_so_equal_secrets_cannot_be_spotted():
    assert encrypt_secrets({"a": "b"}, secret_key="k") != encrypt_secrets({"a": "b"}, secret_key="k")


def test_another_secret_key_cannot_read_them():
    ciphertext = encrypt_secrets({"api_key": "re_123"}, secret_key="first-key")
    with pytest.raises(SecretUnreadable):
        decrypt_secrets(ciphertext, secret_key="second-key")


def test_the_app_secret_key_is_used_by_default(monkeypatch):
    from quantum_voice.core.config import reset_settings

    monkeypatch.setenv("SECRET_KEY", "the-app-key")
    reset_settings()
    ciphertext = encrypt_secrets({"x": "y"})
    assert decrypt_secrets(ciphertext, secret_key="the-app-key") == {"x": "y"}
    assert decrypt_secrets(None) == {}
