"""The published verification helper against what the sender signs: Stripe's scheme, a tolerance against replay,
and a refusal for anything altered."""

import hashlib
import hmac
import json

import pytest

from quantum_voice.core.config import Settings
from quantum_voice.services.developer import webhook_delivery
from quantum_voice.services.developer.webhook_signature import SignatureInvalid, sign, verify

SECRET = "whsec_test_5f1c0ffee"
BODY = json.dumps({"id": "evt_1", "type": "lead.created", "data": {"lead": {"id": 7}}}).encode()
NOW = 1_796_400_000


def test_the_header_is_a_timestamp_and_the_hmac_of_timestamp_dot_body():
    header = sign(BODY, SECRET, NOW)
    expected = hmac.new(SECRET.encode(), f"{NOW}.".encode() + BODY, hashlib.sha256).hexdigest()
    assert header == f"t={NOW},v1={expected}"
    assert verify(BODY, header, SECRET, now=NOW + 10) == NOW


def test_what_the_sender_signs_verifies_with_the_helper():
    claimed = webhook_delivery.Claimed(delivery_id=1, attempt=1, webhook_id=2, organization_id=3, event_id="evt_1",
                                       event_type="lead.created", url="https://example.com", body=BODY,
                                       secret=SECRET)
    headers = webhook_delivery.headers_for(claimed, NOW)
    assert verify(BODY, headers["QV-Signature"], SECRET, now=NOW) == NOW
    assert headers["QV-Event-Id"] == "evt_1" and headers["User-Agent"] == "QuantumVoice-Webhooks/1"


@pytest.mark.parametrize("body, secret", [(BODY.replace(b"7", b"8"), SECRET), (BODY, "whsec_other"),
                                         (BODY + b" ", SECRET)])
def test_a_tampered_body_or_the_wrong_secret_is_refused(body, secret):
    with pytest.raises(SignatureInvalid, match="No signature matches"):
        verify(body, sign(BODY, SECRET, NOW), secret, now=NOW)


@pytest.mark.parametrize("delta", [-301, 301, 3600])
def test_a_signature_outside_the_tolerance_is_refused_as_a_replay(delta):
    with pytest.raises(SignatureInvalid, match="tolerance"):
        verify(BODY, sign(BODY, SECRET, NOW), SECRET, now=NOW + delta)
    assert verify(BODY, sign(BODY, SECRET, NOW), SECRET, tolerance_seconds=abs(delta), now=NOW + delta) == NOW


@pytest.mark.parametrize("header", ["", "v1=abc", f"t={NOW}", "t=x,v1=abc", "garbage"])
def test_a_malformed_header_is_refused(header):
    with pytest.raises(SignatureInvalid):
        verify(BODY, header, SECRET, now=NOW)


def test_any_of_several_v1_signatures_may_match():
    good = sign(BODY, SECRET, NOW).split(",")[1]
    assert verify(BODY, f"t={NOW},v1={'0' * 64},{good}", SECRET, now=NOW) == NOW


def test_the_backoff_doubles_from_30_seconds_to_an_hour_and_honours_retry_after():
    settings = Settings()
    assert [webhook_delivery.backoff_seconds(n, None, settings) for n in (1, 2, 3, 7, 8, 20)] == [
        30, 60, 120, 1920, 3600, 3600]
    assert webhook_delivery.backoff_seconds(1, 600, settings) == 600
    assert webhook_delivery.backoff_seconds(8, 10, settings) == 3600
