"""What the dashboard page works out for itself: the range its controls describe, the lists its cards open, and
the charts it draws from the analytics' numbers."""

from datetime import date

import pytest

from quantum_voice.components import charts
from quantum_voice.core.errors import ValidationFailed
from quantum_voice.services.analytics import AnalyticsFilter
from quantum_voice.states.dashboard import chosen_filter, leads_links

TODAY = date(2026, 3, 10)


def test_preset_ranges_end_today_and_keep_the_campaign():
    f = chosen_filter("30", "", "", "12", today=TODAY)
    assert (f.first_day, f.last_day, f.campaign_id) == (date(2026, 2, 9), TODAY, 12)
    assert chosen_filter("nonsense", "", "", "", today=TODAY).day_count == 7


def test_a_custom_range_needs_both_dates_in_order():
    assert chosen_filter("custom", "2026-01-01", "2026-01-31", "", today=TODAY).day_count == 31
    with pytest.raises(ValidationFailed):
        chosen_filter("custom", "2026-01-01", "", "", today=TODAY)
    with pytest.raises(ValidationFailed):
        chosen_filter("custom", "2026-02-01", "2026-01-01", "", today=TODAY)


def test_lead_cards_open_the_leads_list_filtered_as_they_count():
    leads, hot = leads_links(AnalyticsFilter(date(2026, 3, 4), TODAY, 5))
    assert leads == "/leads?campaign_id=5&created_from=2026-03-04&created_to=2026-03-10"
    assert hot == "/leads?campaign_id=5&band=hot&created_from=2026-03-04&created_to=2026-03-10"


def test_charts_draw_one_bar_series_per_campaign_and_the_funnel_top_down():
    volume = charts.volume_figure([date(2026, 3, 9), TODAY], [("Open House", [2, 1]), ("Spring Sale", [0, 1])])
    assert [t.name for t in volume.data] == ["Open House", "Spring Sale"] and volume.layout.barmode == "stack"
    funnel = charts.funnel_figure([("QR scans", 4), ("Calls", 2)])
    assert list(funnel.data[0].text) == ["4 · 100%", "2 · 50%"]
    assert list(charts.bands_figure({"hot": 1, "warm": 2, "cold": 0}).data[0].y) == [1, 2, 0]
