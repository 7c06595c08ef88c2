"""The developer portal: API keys (``api_keys``), what each scope allows (``scopes``) and how a key signs a
request in (``key_auth``); outgoing webhooks: endpoints and their log (``webhooks``), the events (``webhook_events``),
sending and retrying them (``webhook_delivery``), where they may go (``webhook_targets``) and their signature
(``webhook_signature``)."""
