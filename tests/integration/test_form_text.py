"""What people type in the app's forms goes through services, not the API: unstorable text is refused there too,
with the field named, and nothing is written."""

import pytest
from sqlmodel import select

from quantum_voice.core.errors import ValidationFailed
from quantum_voice.models.campaigns import Campaign
from quantum_voice.services import campaigns
from tests.factories import repo_for, verified_owner


@pytest.mark.parametrize("description", ["nul\x00byte", "\u202egnp.exe", "bell\x07"])
def test_a_campaign_saved_from_a_form_with_unstorable_text_is_refused(session, description):
    owner, _ = verified_owner(session)
    with pytest.raises(ValidationFailed) as err:
        campaigns.create_campaign(repo_for(session, owner), name="Open house", description=description)
    assert err.value.field == "description" and "Remove it and try again" in err.value.message
    session.rollback()
    assert session.exec(select(Campaign)).all() == []


def test_ordinary_text_with_newlines_accents_and_right_to_left_script_is_kept(session):
    owner, _ = verified_owner(session)
    text = "Zoë's open house\n\tمرحبا \u200f東京 🎉"
    campaign = campaigns.create_campaign(repo_for(session, owner), name="Open house", description=text)
    session.flush()
    assert session.get(Campaign, campaign.id).description == text
