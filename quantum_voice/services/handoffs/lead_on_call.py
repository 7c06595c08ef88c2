"""The agent on a call corrects the caller's lead: name, email, phone, what they are interested in, their timeline
and budget. Only while the call is theirs (``takeover.ongoing``: the agent who accepted it, or a manager and up),
only a lead the caller consented to, never an erased one. Each change is a line of the lead's history (which fields,
not their values: history is kept after an erasure), announced to the pages that show the lead, and audited."""

from __future__ import annotations

from quantum_voice.core.clock import utcnow
from quantum_voice.core.errors import ValidationFailed
from quantum_voice.models.calls import Conversation
from quantum_voice.models.leads import ActivityKind, Lead
from quantum_voice.services import audit
from quantum_voice.services.flows.state import FlowState
from quantum_voice.services.handoffs.takeover import ongoing
from quantum_voice.services.leads.emails import valid_email
from quantum_voice.services.leads.live import announce_after_commit
from quantum_voice.services.leads.people import record
from quantum_voice.services.tenancy import OrgRepository

EDITABLE = {"name": 200, "email": 320, "phone": 40, "interest": 500, "timeline": 200, "budget": 200}


def edit_lead(repo: OrgRepository, handoff_id: int, fields: dict[str, str]) -> Lead:
    """Set the given fields (an empty value clears one); returns the lead. Unchanged values leave no history."""
    handoff = ongoing(repo, handoff_id)
    if handoff.lead_id is None:
        raise ValidationFailed("This caller has not agreed to us keeping their details, so there is no lead to "
                               "edit.", field="lead")
    lead = repo.get(Lead, handoff.lead_id)
    if lead.erased_at is not None:
        raise ValidationFailed("This person's data was erased; the lead can no longer be changed.", field="lead")
    values = _checked(fields)
    changed = sorted(key for key, value in values.items() if value != getattr(lead, key))
    if not changed:
        return lead
    for key in changed:
        setattr(lead, key, values[key])
    _into_the_call(repo, handoff.conversation_id, {key: values[key] for key in changed})
    lead.updated_at = utcnow()
    repo.session.add(lead)
    record(repo, lead, ActivityKind.EDITED, details={"fields": changed, "handoff_id": handoff.id})
    audit.record(repo.session, "lead.edited_on_call", organization_id=repo.scope.organization_id,
                 actor_user_id=repo.scope.user_id, target_type="lead", target_id=lead.id, fields=changed,
                 handoff_id=handoff.id)
    announce_after_commit(repo.session, lead.organization_id, lead.id, "updated")
    return lead


def _into_the_call(repo: OrgRepository, conversation_id: int, values: dict[str, str | None]) -> None:
    """The call's own copy of the details takes the correction too, as typed (the best source), so the flow's next
    step neither overwrites the lead with what it heard nor asks again."""
    conversation = repo.session.exec(repo.select(Conversation).where(Conversation.id == conversation_id)
                                     .with_for_update()).first()
    if conversation is None or "engine" not in (conversation.flow_state or {}):
        return
    state = FlowState.from_json(conversation.flow_state["engine"])
    for key, value in values.items():
        if value is None:
            state.variables.pop(key, None)
            state.sources.pop(key, None)
        else:
            state.variables[key], state.sources[key] = value, "typed"
    conversation.flow_state = {**conversation.flow_state, "engine": state.to_json()}
    repo.session.add(conversation)


def _checked(fields: dict[str, str]) -> dict[str, str | None]:
    unknown = sorted(set(fields) - set(EDITABLE))
    if unknown:
        raise ValidationFailed(f"These details cannot be edited here: {', '.join(unknown)}.", field=unknown[0])
    values: dict[str, str | None] = {}
    for key, raw in fields.items():
        value = " ".join(str(raw or "").split())
        if len(value) > EDITABLE[key]:
            raise ValidationFailed(f"The {key} can be at most {EDITABLE[key]} characters.", field=key)
        if key == "email" and value:
            checked = valid_email(value)
            if checked is None:
                raise ValidationFailed("That email address does not look right: check it and try again.",
                                       field="email")
            value = checked
        values[key] = value or None
    return values
