from quantum_voice.services.notifications.policy import DEFAULT_POLICY, validate_policy
from quantum_voice.states.campaign_notifications import band_rows, chosen


def test_the_grid_shows_the_default_channels_per_band():
    rows = {row.band: row for row in band_rows(DEFAULT_POLICY)}
    assert list(rows) == ["hot", "warm", "cold"]
    assert (rows["hot"].slack, rows["hot"].asana, rows["hot"].email, rows["hot"].digest) == (True, True, True, False)
    assert (rows["cold"].slack, rows["cold"].digest) == (False, True)


def test_a_switch_changes_only_its_own_band_and_channel():
    rows = band_rows(DEFAULT_POLICY)
    after = chosen(rows, "warm", "slack", True)
    assert after == {"hot": ["slack", "asana", "email"], "warm": ["slack", "asana", "email"], "cold": ["digest"]}
    assert chosen(rows, "hot", "email", False)["hot"] == ["slack", "asana"]
    assert validate_policy(after) == after  # what the grid sends is what the service accepts
