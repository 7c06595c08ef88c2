"""The public side of a campaign, for callers (no account, no sign-in).

A call goes: ``call_page.campaign_page`` (branding, privacy wording, whether calls are taken) →
``email_gate.open_gate`` (email + consent → an immutable consent ticket and a short-lived signed *call ticket*) →
``placement.place_call`` (the browser's WebRTC offer and the call ticket → the sidecar's answer; the ticket works
once) → ``placement.hang_up`` / ``placement.report_metrics`` with the signed *call token* returned by ``place_call``.

When WebRTC cannot connect, the page's call goes as PCM over a WebSocket instead (``placement.open_socket_call``):
with the ticket when the page knows before placing the call (no WebRTC in the browser, ``?transport=socket``, or
``place_call`` answering ``webrtc_unavailable``, which leaves the ticket unused), or with the call token of its
WebRTC call that never connected, which the sidecar then moves onto the socket. A consent ticket belongs to one
call, so the fallback continues that call rather than opening a second one.

When the voice sidecar running a call dies mid-call, the page resumes it with its call token (``resume_call`` for
WebRTC, ``open_socket_call(resume_token=...)`` for the socket): the same conversation carries on on another live
sidecar, which answers "Sorry, we got cut off." and asks again what the flow was waiting for. Only the token's own
conversation, only while it is open (a lost call stays open for CALL_RESUME_GRACE_SECONDS), only once its sidecar
is gone or unreachable, and a limited number of times.

Abuse limits (``call_limits``): gate posts and attempts to place a call per caller IP and address range, and calls
placed per campaign per hour (the shared cache, so every app process counts together; a placement that fails gives
its count back), the campaign's hard budget, and a maximum call length (the campaign's ``max_call_seconds``,
enforced by the sidecar). A test call (the owner's "Test call" button) carries a signed test
token (``call_tickets``): it may run a campaign that is not live yet, and it is marked as a test (left out of
analytics).

Modules: ``call_page`` (what the page shows, the test-call link), ``email_gate`` (gate token, consent, call
ticket), ``placement`` (placing, moving and resuming calls on WebRTC, the WebSocket or LiveKit; hang-up and
metrics), ``call_limits`` (whether and how often a line takes calls), ``call_tickets`` (the signed tokens).
"""
