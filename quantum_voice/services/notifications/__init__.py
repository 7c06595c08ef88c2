"""Lead notifications by score band: Slack, Asana tasks, email and a daily digest of cold leads
(docs/notifications.md).

``queue_lead_notifications(repo, lead)`` is the one entry point for the code that writes leads; the background
worker delivers (``outbox.deliver_job``, ``outbox.deliver_all_due``)."""

from quantum_voice.services.notifications.outbox import (
    DELIVER_JOB,
    deliver_all_due,
    deliver_due,
    deliver_job,
    queue_lead_notifications,
    queue_missed_handoff,
)

__all__ = ["DELIVER_JOB", "deliver_all_due", "deliver_due", "deliver_job", "queue_lead_notifications",
           "queue_missed_handoff"]
