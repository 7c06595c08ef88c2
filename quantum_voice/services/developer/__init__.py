"""The developer portal: API keys (``api_keys``), what each scope allows (``scopes``) and how a key signs a
request in (``key_auth``). Webhooks will live here too (issue 17)."""
