"""What the Integrations page shows of each provider and what its form sends: secrets only as "set"."""

from quantum_voice.services.integrations import IntegrationView, SecretView
from quantum_voice.states.integrations import card_of, form_to_settings


def test_a_connected_secret_shows_as_set_with_its_last_four_and_no_value():
    view = IntegrationView("slack", "Slack", connected=True, enabled=True, config={"channel": "#leads"},
                           secrets={"bot_token": SecretView(set=True, last4="9xYz")})
    card = card_of(view)
    assert card.status == "Connected" and card.can_disconnect
    channel, token = card.fields
    assert (channel.name, channel.value, channel.secret) == ("channel", "#leads", False)
    assert (token.value, token.secret) == ("", True) and token.placeholder.startswith("set (…9xYz)")


def test_email_recipients_show_as_one_line_and_default_to_the_owners():
    assert card_of(IntegrationView("email", "Email recipients", False, False)).status == "The owners"
    card = card_of(IntegrationView("email", "Email recipients", True, True, config={"recipients": ["a@x.io", "b@x.io"]}))
    assert card.fields[0].value == "a@x.io, b@x.io" and card.status == "Custom recipients"


def test_the_form_sends_settings_and_only_the_secrets_typed():
    assert form_to_settings("asana", {"provider": "asana", "project_gid": "123", "access_token": " "}) == (
        {"project_gid": "123"}, {})
    assert form_to_settings("resend", {"from_address": "a@b.co", "api_key": "re_1"}) == (
        {"from_address": "a@b.co"}, {"api_key": "re_1"})
