"""Every table of the product. Importing this package registers them all on SQLModel.metadata."""

from quantum_voice.models.accounts import (
    EmailToken,
    Invitation,
    Membership,
    Organization,
    Role,
    SessionKind,
    TokenPurpose,
    User,
    UserSession,
)
from quantum_voice.models.billing import Budget, UsageRecord
from quantum_voice.models.calls import ConsentRecord, Conversation, ConversationStatus, Speaker, TranscriptTurn
from quantum_voice.models.campaigns import Campaign, CampaignStatus, QRCode, QRScanEvent
from quantum_voice.models.developer import (ApiKey, DeliveryStatus, IdempotentRequest, Webhook, WebhookAttempt,
                                             WebhookDelivery)
from quantum_voice.models.flows import Flow, FlowVersion
from quantum_voice.models.handoff import AgentPresence, Handoff, HandoffRule, HandoffStatus, PresenceStatus
from quantum_voice.models.integrations import IntegrationSetting
from quantum_voice.models.knowledge import Chunk, Document, DocumentStatus, KnowledgeBase, KnowledgeQuery, QnAPair
from quantum_voice.models.leads import ActivityKind, Lead, LeadActivity, LeadBand, LeadStatus
from quantum_voice.models.notifications import NotificationChannel, NotificationDelivery, NotificationStatus
from quantum_voice.models.system import AuditLog, EmailMessage, EmailStatus, SystemMetric, VoiceWorker

__all__ = [
    "ActivityKind", "AgentPresence", "ApiKey", "AuditLog", "Budget", "Campaign", "CampaignStatus", "Chunk",
    "ConsentRecord", "Conversation", "ConversationStatus", "DeliveryStatus", "Document", "DocumentStatus",
    "EmailMessage", "EmailStatus", "EmailToken", "Flow", "FlowVersion", "Handoff", "HandoffRule", "HandoffStatus",
    "IdempotentRequest", "IntegrationSetting", "Invitation", "KnowledgeBase", "KnowledgeQuery", "Lead", "LeadActivity", "LeadBand",
    "LeadStatus", "Membership", "NotificationChannel", "NotificationDelivery", "NotificationStatus", "Organization",
    "PresenceStatus", "QRCode", "QRScanEvent", "QnAPair", "Role", "SessionKind", "Speaker", "SystemMetric",
    "TokenPurpose", "TranscriptTurn", "UsageRecord", "User", "UserSession", "VoiceWorker", "Webhook",
    "WebhookAttempt", "WebhookDelivery",
]
