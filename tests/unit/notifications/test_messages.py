"""What a lead notification says: who, score and band, why, a link; Slack Block Kit within Slack's limits."""

from datetime import date

from quantum_voice.models.leads import Lead
from quantum_voice.services.notifications.messages import digest_notice, lead_notice

BREAKDOWN = [{"rule": "budget", "label": "Gave a budget", "points": 30}, {"rule": "t", "label": "Soon", "points": 40}]


def _lead(**kw) -> Lead:
    return Lead(id=42, organization_id=1, name="Priya Raman", email="priya@example.com", score=70, band="hot",
                score_breakdown=BREAKDOWN, **kw)


def test_a_hot_lead_is_high_priority_due_today_with_why_and_link():
    notice = lead_notice(_lead(), campaign_name="Open house", app_url="https://app.example/", today=date(2026, 1, 2))
    assert notice.subject == "High priority: Hot lead: Priya Raman, score 70"
    assert notice.due_on == "2026-01-02"
    assert "- Gave a budget (+30)" in notice.text and "https://app.example/leads/42" in notice.text
    kinds = [b["type"] for b in notice.blocks]
    assert kinds == ["header", "section", "section", "actions"]
    assert notice.blocks[0]["text"]["type"] == "plain_text" and len(notice.blocks[1]["fields"]) <= 10
    assert notice.blocks[3]["elements"][0]["url"] == "https://app.example/leads/42"


def test_a_warm_lead_is_due_in_two_days_and_a_test_call_says_so():
    notice = lead_notice(_lead(is_test=True).model_copy(update={"band": "warm", "score": 50}), campaign_name=None,
                         app_url="http://x", today=date(2026, 1, 2))
    assert notice.subject == "Warm lead: Priya Raman, score 50 (test call)" and notice.due_on == "2026-01-04"
    assert any(b["type"] == "context" for b in notice.blocks)


def test_a_lead_without_a_name_is_named_by_its_email_and_the_digest_lists_every_lead():
    nameless = _lead().model_copy(update={"name": None})
    assert "priya@example.com" in lead_notice(nameless, campaign_name=None, app_url="http://x",
                                              today=date(2026, 1, 2)).subject
    digest = digest_notice([nameless, _lead()], app_url="http://x", day=date(2026, 1, 2))
    assert digest.subject == "2 cold leads to follow up (2026-01-02)" and digest.text.count("http://x/leads/42") == 2
