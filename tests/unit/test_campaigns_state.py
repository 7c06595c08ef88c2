"""What the campaign pages work out for themselves: which rows the list shows, in what order, and what the
settings form sends to the service."""

from quantum_voice.states.campaign_detail import settings_changes
from quantum_voice.states.campaigns import CampaignRow, visible_campaigns

ROWS = [
    CampaignRow(id=1, name="Spring Open House", description="Yard signs on Elm Street", status="live", version=3,
                created_key="2025-03-01T09:00:00"),
    CampaignRow(id=2, name="autumn flyers", description="", status="draft", version=1,
                created_key="2025-09-10T09:00:00"),
    CampaignRow(id=3, name="Website button", description="Open house questions", status="paused", version=0,
                created_key="2025-06-15T09:00:00"),
]


def ids(rows):
    return [r.id for r in rows]


def test_newest_first_by_default():
    assert ids(visible_campaigns(ROWS)) == [2, 3, 1]


def test_search_matches_name_or_description_ignoring_case_and_spacing():
    assert ids(visible_campaigns(ROWS, "open  HOUSE")) == [3, 1]
    assert ids(visible_campaigns(ROWS, "elm street")) == [1]
    assert visible_campaigns(ROWS, "nothing like this") == []


def test_status_filter_keeps_one_status_and_all_keeps_every_row():
    assert ids(visible_campaigns(ROWS, status="paused")) == [3]
    assert ids(visible_campaigns(ROWS, "open house", status="live")) == [1]
    assert len(visible_campaigns(ROWS, status="all")) == 3
    assert len(visible_campaigns(ROWS, status="unknown")) == 3


def test_sorting_by_name_status_and_published_version():
    assert ids(visible_campaigns(ROWS, sort_by="name")) == [2, 1, 3]
    assert ids(visible_campaigns(ROWS, sort_by="status")) == [2, 1, 3]
    assert ids(visible_campaigns(ROWS, sort_by="version")) == [1, 2, 3]


def test_settings_form_sends_text_as_typed_and_the_call_length_as_a_number():
    changes = settings_changes({"name": "Spring", "greeting": "Hi!", "brand_color": "#0ea5e9", "logo_url": "",
                                "max_call_seconds": " 600 ", "handoff_wait_seconds": "60",
                                "settings-brand-color": "#0ea5e9"})
    assert changes == {"name": "Spring", "greeting": "Hi!", "brand_color": "#0ea5e9", "logo_url": "",
                       "max_call_seconds": 600, "handoff_wait_seconds": 60}


def test_a_call_length_that_is_not_a_number_goes_to_the_service_as_typed():
    assert settings_changes({"max_call_seconds": "ten minutes"}) == {"max_call_seconds": "ten minutes"}
    assert settings_changes({"description": None}) == {"description": ""}
