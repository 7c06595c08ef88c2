"""The lead pages' own logic: the list's view in the URL (states/lead_filters.py) and how a lead's page words
its transcript timing, score reasons and history (states/lead_detail.py)."""

from datetime import date
from types import SimpleNamespace

from quantum_voice.services.leads.records import UNASSIGNED, LeadFilter
from quantum_voice.states.lead_detail import clock, history_text, reasons
from quantum_voice.states.lead_filters import LeadView, export_url, lead_filter, read_view, view_url
from quantum_voice.states.leads import assignee_choice


def test_the_plain_list_has_a_plain_url():
    assert view_url(LeadView()) == "/leads"
    assert export_url(LeadView()) == "/api/leads/export.csv"
    assert read_view({}) == LeadView()


def test_a_view_survives_the_round_trip_through_its_url():
    view = LeadView(q="ana lopez", campaign_id="7", band="hot", status="contacted", assignee="none",
                    created_from="2026-01-01", created_to="2026-02-28", include_tests=True, sort="score", page=2)
    url = view_url(view)
    assert url.startswith("/leads?") and "page=3" in url  # pages count from 1 for people
    params = dict(p.split("=", 1) for p in url.split("?", 1)[1].split("&"))
    assert read_view({k: v.replace("+", " ") for k, v in params.items()}) == view


def test_the_csv_link_carries_the_filter_but_not_the_sort_or_page():
    view = LeadView(band="warm", assignee="12", include_tests=True, sort="oldest", page=4)
    assert export_url(view) == "/api/leads/export.csv?band=warm&assignee=12&include_tests=true"


def test_values_that_are_not_choices_are_dropped_not_refused():
    view = read_view({"band": "boiling", "status": "NEW; drop", "campaign_id": "7x", "assignee": "someone",
                      "created_from": "yesterday", "sort": "random", "page": "0", "include_tests": "maybe",
                      "q": "  ana   \n lopez  "})
    assert view == LeadView(q="ana lopez")
    assert read_view({"page": "-2"}).page == 0 and read_view({"page": "5"}).page == 4
    assert read_view({"assignee": "NONE"}).assignee == "none"


def test_changing_a_filter_starts_at_the_first_page_and_turning_the_page_does_not():
    view = LeadView(band="hot", page=3)
    assert view.with_changes(status="won").page == 0
    assert view.with_changes(page=4) == LeadView(band="hot", page=4)
    assert not LeadView(sort="score").filtered and LeadView(include_tests=True).filtered


def test_the_view_becomes_the_services_filter():
    assert lead_filter(LeadView()) == LeadFilter()
    assert lead_filter(LeadView(q="ana", campaign_id="3", band="cold", status="won", assignee="none",
                                created_from="2026-03-01", created_to="2026-03-31", include_tests=True)) == \
        LeadFilter(query="ana", campaign_id=3, band="cold", status="won", assignee_user_id=UNASSIGNED,
                   created_from=date(2026, 3, 1), created_to=date(2026, 3, 31), include_tests=True)
    assert lead_filter(LeadView(assignee="9")).assignee_user_id == 9
    assert assignee_choice("none") is None and assignee_choice("9") == 9


def test_transcript_times_read_as_minutes_and_seconds_from_the_start_of_the_call():
    assert clock(0) == "00:00"
    assert clock(65_400) == "01:05"
    assert clock(3_725_000) == "1:02:05"
    assert clock(None) == "" and clock(-5) == ""


def test_the_score_breakdown_lists_each_rule_that_fired_with_its_points():
    shown = reasons([{"rule": "asked_pricing", "label": "Asked about pricing", "points": 15},
                     {"rule": "cold_feet", "label": "Said not now", "points": -5}])
    assert [(r.label, r.points) for r in shown] == [("Asked about pricing", "+15"), ("Said not now", "-5")]
    assert reasons([]) == [] and reasons(None) == []


def activity(kind: str, **details):
    return SimpleNamespace(kind=kind, details=details)


def test_history_lines_say_what_changed_in_words():
    names = {3: "Ana Lopez"}
    assert history_text(activity("status", **{"from": "new", "to": "contacted"}), names) == \
        "Status: new → contacted"
    assert history_text(activity("assigned", **{"from": None, "to": 3}), names) == "Assigned to Ana Lopez"
    assert history_text(activity("assigned", **{"from": 3, "to": None}), names) == "Unassigned"
    assert history_text(activity("assigned", to=99), names) == "Assigned to a former member"
    assert history_text(activity("created", conversation_id=4), names) == "Became a lead on a call"
    assert history_text(activity("created", returning=True), names) == "Called again"
    assert history_text(activity("erased"), names) == "Personal data erased"
    assert history_text(activity("handoff", disposition="not_interested", **{"from": "new", "to": "lost"}),
                        names) == "Call taken by a team member: not interested (status: new → lost)"
    assert history_text(activity("handoff", disposition="no_answer"), names) == \
        "Call taken by a team member: no answer"
    assert history_text(activity("notified", channel="slack", status="sent"), names) == "Sent to Slack"
    assert history_text(activity("notified", channel="asana", status="skipped", error="Asana is not connected."),
                        names) == "Not sent to Asana: Asana is not connected."


def test_the_watch_loop_reads_every_waiting_announcement_without_blocking():
    from quantum_voice.core.pubsub import InProcessPubSub
    from quantum_voice.services.leads import live
    from quantum_voice.states.leads import _heard, _on_the_list

    broker = InProcessPubSub()
    subscription = broker.subscribe(live.channel(7))
    assert not _heard(subscription)
    broker.publish(live.channel(7), {"lead_id": 1, "change": "created"})
    broker.publish(live.channel(7), {"lead_id": 2, "change": "updated"})
    broker.publish(live.channel(8), {"lead_id": 3, "change": "created"})  # another organisation's
    assert _heard(subscription) and not _heard(subscription)
    assert _on_the_list("/leads") and _on_the_list("/leads/") and not _on_the_list("/leads/12")
