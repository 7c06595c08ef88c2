from quantum_voice.core.security import hash_password, hash_token, new_token, sign, verify_password


def test_passwords_are_hashed_with_argon2id_and_verify():
    hashed = hash_password("correct horse battery")
    assert hashed.startswith("$argon2id$")
    assert "correct horse" not in hashed
    assert verify_password(hashed, "correct horse battery")
    assert not verify_password(hashed, "correct horse battery!")


def test_verify_password_without_a_hash_is_false():
    assert not verify_password(None, "anything at all")
    assert not verify_password("not-a-hash", "anything at all")


def test_tokens_are_random_and_stored_as_sha256():
    a, b = new_token(), new_token()
    assert a != b and len(a) >= 40
    assert hash_token(a) == hash_token(a)
    assert len(hash_token(a)) == 64 and hash_token(a) != hash_token(b)


def test_hmac_signature_depends_on_secret_and_message():
    assert sign("s1", b"body") == sign("s1", b"body")
    assert sign("s1", b"body") != sign("s2", b"body")
    assert sign("s1", b"body") != sign("s1", b"body2")
