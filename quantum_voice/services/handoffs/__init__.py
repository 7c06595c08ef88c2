"""Human hand-off: the queue of callers waiting for a person, the agents' presence, routing, taking a call,
handing it back to the AI, the disposition, and expiring requests nobody answered (issue 16; docs/handoff.md).

- ``presence``: an agent says they are available, busy or away, with skills and capacity; heartbeats keep it fresh.
- ``routing``: who should get the next caller (matching skill, then longest idle, within capacity).
- ``queue``: the waiting callers with their context, in order (priority, then age).
- ``takeover``: accept (one winner per race) and release (hand back to the AI).
- ``disposition``: the end of a taken call: qualified / not interested / callback / no answer, onto the lead.
- ``expiry``: waiting requests past the campaign's wait become abandoned.
- ``live``: queue changes announced on ``handoffs.{organization_id}`` after commit.
- ``on_the_call``: the call's side: whether anyone could take a caller, what the queue did told to the flow engine,
  the callback note, a caller who hung up while waiting, a call whose agent's audio is gone given back to the AI.
- ``lead_on_call``: the agent on the call corrects the caller's lead.
- ``metrics``: how hand-offs went, for the dashboard.
"""
