"""What a lead notification says: who, how hot, why (the scoring rules that fired) and a link to the lead."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from quantum_voice.models.leads import Lead
from quantum_voice.services.notifications.channels import Notice

_BAND_TITLE = {"hot": "Hot lead", "warm": "Warm lead", "cold": "Cold lead"}
_BAND_EMOJI = {"hot": ":fire:", "warm": ":sunny:", "cold": ":snowflake:"}
_DUE_IN_DAYS = {"hot": 0, "warm": 2, "cold": 5}  # Asana due date: hot today, warm in two days


def lead_link(app_url: str, lead_id: int) -> str:
    return f"{app_url.rstrip('/')}/leads/{lead_id}"


def _who(lead: Lead) -> str:
    return lead.name or lead.email or lead.phone or f"Lead #{lead.id}"


def _reasons(lead: Lead) -> list[str]:
    reasons = []
    for item in lead.score_breakdown or []:
        if isinstance(item, dict):
            label = str(item.get("label") or item.get("rule") or "").strip()
            points = item.get("points")
            reasons.append(f"{label} ({points:+d})" if isinstance(points, int) else label)
    return [r for r in reasons if r]


def lead_notice(lead: Lead, *, campaign_name: str | None, app_url: str, today: date) -> Notice:
    band = lead.band if lead.band in _BAND_TITLE else "cold"
    who, link, reasons = _who(lead), lead_link(app_url, lead.id), _reasons(lead)
    test = " (test call)" if lead.is_test else ""
    subject = f"{_BAND_TITLE[band]}: {who}, score {lead.score}{test}"
    if band == "hot":
        subject = f"High priority: {subject}"
    facts = [("Name", lead.name), ("Email", lead.email), ("Phone", lead.phone), ("Company", lead.company),
             ("Interest", lead.interest), ("Timeline", lead.timeline), ("Budget", lead.budget),
             ("Campaign", campaign_name)]
    lines = [f"{label}: {value}" for label, value in facts if value]
    lines += [f"Score: {lead.score} ({band})", "", "Why:"] + [f"- {r}" for r in reasons or ["no scoring rule fired"]]
    if lead.summary:
        lines += ["", lead.summary]
    lines += ["", f"Open the lead: {link}"]
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": f"{_BAND_TITLE[band]}: {who}"[:150]}},
        {"type": "section", "fields": [{"type": "mrkdwn", "text": f"*{label}*\n{value}"[:2000]}
                                       for label, value in facts + [("Score", f"{lead.score} ({band})")]
                                       if value][:10]},
        {"type": "section", "text": {"type": "mrkdwn", "text": (
            "*Why*\n" + "\n".join(f"• {r}" for r in reasons or ["no scoring rule fired"]))[:3000]}},
        {"type": "actions", "elements": [{"type": "button", "text": {"type": "plain_text", "text": "Open lead"},
                                          "url": link, "style": "primary" if band == "hot" else None}]},
    ]
    button = blocks[-1]["elements"][0]
    if button["style"] is None:
        del button["style"]
    if lead.is_test:
        blocks.insert(1, {"type": "context", "elements": [{"type": "mrkdwn", "text": "From a test call."}]})
    blocks[0]["text"]["text"] = f"{_BAND_EMOJI[band]} " + blocks[0]["text"]["text"]
    blocks[0]["text"]["emoji"] = True
    due = (today + timedelta(days=_DUE_IN_DAYS[band])).isoformat()
    return Notice(subject=subject, text="\n".join(lines), blocks=blocks, due_on=due)


def missed_handoff_notice(lead: Lead, *, asked: str, outcome: str, campaign_name: str | None, app_url: str,
                          today: date) -> Notice:
    """A caller asked for a person and no one took the call: who, what they asked, when to get back to them."""
    who, link = _who(lead), lead_link(app_url, lead.id)
    subject = f"Missed hand-off: {who} asked for a person" + (" (test call)" if lead.is_test else "")
    facts = [("Name", lead.name), ("Email", lead.email), ("Phone", lead.phone), ("Campaign", campaign_name),
             ("Asked", asked), ("What happened", outcome)]
    lines = [f"{label}: {value}" for label, value in facts if value]
    if lead.summary:
        lines += ["", lead.summary]
    lines += ["", f"Open the lead: {link}"]
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": f":telephone_receiver: Missed hand-off: {who}"[:150],
                                    "emoji": True}},
        {"type": "section", "fields": [{"type": "mrkdwn", "text": f"*{label}*\n{value}"[:2000]}
                                       for label, value in facts if value][:10]},
        {"type": "actions", "elements": [{"type": "button", "text": {"type": "plain_text", "text": "Open lead"},
                                          "url": link, "style": "primary"}]},
    ]
    return Notice(subject=subject, text="\n".join(lines), blocks=blocks, due_on=today.isoformat())


def digest_notice(leads: list[Lead], *, app_url: str, day: date) -> Notice:
    count = len(leads)
    subject = f"{count} cold lead{'s' if count != 1 else ''} to follow up ({day.isoformat()})"
    lines = [f"New cold leads since the last digest ({count}):", ""]
    for lead in leads:
        contact = ", ".join(v for v in (lead.email, lead.phone) if v)
        lines.append(f"- {_who(lead)}{f' ({contact})' if contact else ''}, score {lead.score}: "
                     f"{lead_link(app_url, lead.id)}")
    return Notice(subject=subject, text="\n".join(lines))


def test_notice(provider_label: str, app_url: str, today: date) -> Notice:
    text = (f"This is a test from Quantum Voice: {provider_label} is connected, and lead notifications will "
            f"arrive here. Leads: {app_url.rstrip('/')}/leads")
    return Notice(subject="Quantum Voice test notification", text=text,
                  blocks=[{"type": "section", "text": {"type": "mrkdwn", "text": text}}], due_on=today.isoformat())
