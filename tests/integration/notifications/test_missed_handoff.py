"""A caller asked for a person and no one could take the call: the team hears at once, by email (a real SMTP
server) and on Slack (a local receiver of its wire format), whatever the lead's band, with what the caller asked and
when they would like to hear back; once per hand-off and channel. SQLite and PostgreSQL."""

from __future__ import annotations

from quantum_voice.models.calls import Conversation
from quantum_voice.services import conversations
from quantum_voice.worker import build_worker
from tests.integration.flows.test_conversations import SERVICES, acting, rows
from tests.integration.leads.test_people_and_pipeline import ticket
from tests.integration.notifications.conftest import connect, new_campaign, new_org


def caller_no_one_could_take(owner: int, campaign_id: int) -> int:
    with acting(owner) as repo:
        conversation_id = conversations.start_conversation(
            repo, campaign_id, ticket(owner, campaign_id, "ana@example.com"), SERVICES).conversation.id
    for line in ("I'm Ana Lopez", "can I talk to a real person?", "tomorrow after five", "no, that's all, bye"):
        with acting(owner) as repo:
            conversations.take_turn(repo, conversation_id, line, SERVICES)
    return conversation_id


def missed_mail(inbox) -> list:
    return [(to, m) for to, m in inbox.messages if m["Subject"].startswith("Missed hand-off")]


def test_the_team_hears_of_a_caller_no_one_could_take_by_email_and_slack(engine, slack, smtp):
    owner = new_org()
    connect(owner, "slack")
    conversation_id = caller_no_one_could_take(owner, new_campaign(owner))
    assert rows(Conversation, Conversation.id == conversation_id)[0].status == "ended"
    build_worker().run_pending()

    ((recipients, mail),) = missed_mail(smtp)
    assert recipients == ["owner@example.com"]
    assert mail["Subject"] == "Missed hand-off: Ana Lopez asked for a person"
    body = mail.get_payload(decode=True).decode() if not mail.is_multipart() else str(mail)
    assert "can I talk to a real person?" in body and "call back: tomorrow after five" in body
    (message,) = [m for m in slack.delivered.values() if "Missed hand-off" in str(m.body["blocks"])]
    blocks = str(message.body["blocks"])
    assert "Ana Lopez" in blocks and "The caller would like to hear back: tomorrow after five" in blocks

    build_worker().run_pending()  # nothing twice
    assert len(missed_mail(smtp)) == 1


def test_without_slack_the_email_alone_goes(engine, smtp):
    owner = new_org()
    caller_no_one_could_take(owner, new_campaign(owner))
    build_worker().run_pending()
    assert len(missed_mail(smtp)) == 1
