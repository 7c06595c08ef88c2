"""All configuration, read once from environment variables with working defaults.

Nothing else in the code base reads ``os.environ`` for application settings: ask ``get_settings()``.
"""

from __future__ import annotations

import os
import secrets
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

REPO_ROOT = Path(__file__).resolve().parents[2]


def load_or_create_secret_key(data_dir: Path) -> str:
    """Return the key stored in ``data_dir/secret_key``, creating it (mode 0600) on first use."""
    path = data_dir / "secret_key"
    if path.exists():
        return path.read_text().strip()
    data_dir.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(key)
    return key


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=None, extra="ignore", case_sensitive=False)

    # Where the app keeps its files (SQLite database, secret key, uploads).
    data_dir: Path = Field(default=REPO_ROOT / "data")
    # SQLAlchemy URL. Empty → a SQLite file under data_dir. postgresql:// URLs use psycopg 3.
    database_url: str = ""
    # Redis for cache, queue and pub/sub. Empty → in-process equivalents (one machine, one app process).
    redis_url: str = ""
    # Signs and protects tokens. Empty → generated once and stored in data_dir/secret_key (mode 0600).
    secret_key: SecretStr = SecretStr("")

    # PostgreSQL time budget per statement, and for a transaction left idle while holding its locks. On SQLite the
    # first also bounds a writer's wait for its turn at the write lock.
    db_statement_timeout_ms: int = 30_000
    db_idle_in_transaction_timeout_ms: int = 60_000

    # Public address of the app, used in the links we email.
    app_url: str = "http://localhost:3000"
    # Other origins whose pages may call the API with the signed-in cookie (comma-separated, e.g. an admin site
    # on another host). The app's own origin (APP_URL, or the host a request came to) is always allowed.
    cors_allowed_origins: str = ""
    # Sign-in sessions and the links we email: how long each lasts.
    cookie_secure: bool | None = None  # Secure flag on the session cookie; unset → on when APP_URL is https
    session_cookie_name: str = "qv_session"  # the HTTP-only cookie of a signed-in UI session
    session_ttl_hours: int = 24 * 14  # a UI session
    api_token_ttl_hours: int = 24 * 30  # an API bearer token from POST /api/auth/login
    email_token_ttl_hours: int = 48  # an email verification link
    reset_token_ttl_minutes: int = 60  # a password reset link
    invite_ttl_days: int = 7  # an invitation link

    # Sign-in throttling. One address guessing one account: free attempts, then an exponential wait (1 s, 2 s,
    # 4 s... up to the window) before each next try; nobody else is locked out. One address, any accounts: a cap
    # per window. One account from everywhere (many addresses): a high cap per window.
    login_max_attempts_per_account: int = 5  # free failed attempts per account from one address
    login_max_attempts_per_ip: int = 20  # failed attempts from one address, any accounts, per window
    login_max_attempts_per_account_anywhere: int = 100  # failed attempts on one account from anywhere, per window
    login_window_seconds: int = 900
    signup_max_per_ip_per_hour: int = 10  # sign-ups from one address per hour

    # API keys (the Developers page, docs/developers.md).
    api_key_requests_per_minute: int = 120  # requests one API key may make per minute; more are answered 429

    # Outgoing webhooks (the Developers page, docs/developers.md). Endpoints must be public https addresses: a
    # private or loopback target would let users make the server call its own network.
    webhook_allow_private_targets: bool = False  # allow endpoints on loopback/private addresses (on-prem receivers, tests)
    webhook_allow_http: bool = False  # allow plain http:// endpoints (else https only)
    webhook_timeout_seconds: float = 10.0  # one delivery request; slower receivers count as failed
    webhook_retry_base_seconds: float = 30.0  # wait before the 2nd try, doubling after (or the receiver's Retry-After)
    webhook_retry_max_seconds: float = 3600.0  # the longest wait between two tries
    webhook_retry_hours: float = 24.0  # a delivery is retried this long after its first try, then failed
    webhook_disable_after_hours: float = 24.0  # an endpoint whose every try failed this long is disabled (owners emailed)
    webhook_lease_seconds: int = 180  # a delivery being sent by a worker that died is sent again after this
    webhook_log_retention_days: int = 30  # deliveries and their attempts are deleted after this many days

    # Outgoing mail. No SMTP host → messages go to the outbox table and the log.
    smtp_host: str = ""
    smtp_port: int = 587
    smtp_username: str = ""
    smtp_password: SecretStr = SecretStr("")
    smtp_starttls: bool = False
    smtp_ssl: bool = False
    smtp_timeout_seconds: float = 10.0
    email_from: str = "Quantum Voice <no-reply@quantumvoice.local>"

    # Lead notifications (docs/notifications.md): each organisation connects Slack, Asana and Resend on its
    # Integrations page; these are the services' API hosts (a proxy, or a test server) and the delivery policy.
    slack_base_url: str = "https://slack.com"  # chat.postMessage is {this}/api/chat.postMessage
    asana_base_url: str = "https://app.asana.com"  # tasks are created at {this}/api/1.0/tasks
    resend_base_url: str = "https://api.resend.com"  # emails are sent to {this}/emails
    notify_timeout_seconds: float = 10.0  # one request to Slack, Asana or Resend (SMTP has SMTP_TIMEOUT_SECONDS)
    notify_max_attempts: int = 6  # tries per notification before it is marked failed on the lead
    notify_retry_base_seconds: float = 30.0  # wait before the 2nd try, doubling after (or the receiver's Retry-After)
    notify_retry_max_seconds: float = 3600.0  # the longest wait between two tries
    notify_breaker_failures: int = 5  # failures of a service (Slack, Asana, Resend, SMTP) in a minute: its circuit opens
    notify_breaker_reset_seconds: float = 60.0  # an open circuit lets a trial through after this long
    notify_lease_seconds: int = 120  # a notification being sent by a worker that died is sent again after this
    notify_digest_hour_utc: int = 8  # cold leads are emailed in one digest a day, at this hour (UTC)

    # Demo data seeded into an empty database by `make run`.
    seed_demo: bool = True
    demo_email: str = "demo@example.com"
    demo_password: SecretStr = SecretStr("demo-password-123")

    # The voice sidecar counts as running while its heartbeat is younger than this.
    sidecar_heartbeat_timeout_seconds: int = 30
    # The sidecar's media server (agent/transports/): where it listens for the app's call signalling (never for
    # browsers: their media goes peer to peer over WebRTC), the URL the app reaches it at when not host:port (a
    # container or proxy in between), and how many calls one sidecar takes at once.
    voice_media_host: str = "127.0.0.1"
    voice_media_port: int = 0  # 0 → a free port picked at start (the heartbeat tells the app which)
    voice_media_url: str = ""  # empty → http://VOICE_MEDIA_HOST:<port>
    voice_max_calls: int = 4  # the app picks the least loaded sidecar with room

    # Public calls (the call page): abuse limits per caller IP and per campaign (calls started per hour), and how
    # long the call page's ticket (email gate → call) stays valid.
    calls_per_ip_per_hour: int = 20
    calls_per_range_per_hour: int = 100  # gate posts from one /24 (IPv4) or /48 (IPv6)
    calls_per_campaign_per_hour: int = 300  # calls placed, not gate posts
    call_ticket_ttl_seconds: int = 900  # the ticket works once
    # A call whose voice sidecar vanished (crashed, killed) stays open this long after its last sign of life, so the
    # call page can resume it on another sidecar; then it is closed as voice_worker_lost.
    call_resume_grace_seconds: int = 60

    # The voice loop (agent/). Local models from PyPI wheels; nothing is downloaded.
    voice_stt_model: str = "tiny.en"  # tiny.en (fast) | base (more accurate, ~2x slower)
    voice_stt_threads: int = 0  # CPU threads per transcription; 0 → all cores
    voice_stt_speculate_seconds: float = 0.15  # start Whisper at this much silence, before the VAD ends the turn
    voice_stt_window_seconds: float = 10.0  # Whisper's window for a short turn (0 → the full 30 s: ~4x slower)
    voice_tts: str = "piper"  # piper (Joe, natural) | espeak (robotic; also the automatic fallback)
    voice_vad_min_silence_seconds: float = 0.25  # silence that ends a stretch of speech
    voice_min_endpointing_seconds: float = 0.2  # wait after speech when the turn looks finished
    voice_max_endpointing_seconds: float = 1.0  # the longest wait when the caller seems mid-sentence
    # Who decides the caller has finished (agent/turns.py): transcript (Whisper's words and punctuation and the
    # question asked) | audio (livekit's offline end-of-turn model) | vad (silence alone)
    voice_turn_detector: Literal["transcript", "audio", "vad"] = "transcript"
    # Barge-in: the caller talking over the agent.
    voice_interruption_seconds: float = 0.15  # caller speech this long over the agent pauses it (barge-in); words stop it
    voice_false_interruption_seconds: float = 1.0  # a sound with no words: the paused agent carries on this long after it
    # Cloud speech in front of the local models (agent/providers/cloud.py), each needing its key (DEEPGRAM_API_KEY,
    # OPENAI_API_KEY + OPENAI_BASE_URL): local | deepgram | openai. The local chain stays behind as the fallback.
    voice_stt_provider: str = "local"  # local: Whisper → pocketsphinx; a cloud one goes first
    voice_tts_provider: str = "local"  # local: VOICE_TTS → espeak-ng; a cloud one goes first
    deepgram_base_url: str = ""  # empty → https://api.deepgram.com (a proxy, or a test server)
    deepgram_stt_model: str = "nova-3"
    deepgram_tts_model: str = "aura-2-andromeda-en"
    openai_stt_model: str = "gpt-4o-mini-transcribe"
    openai_tts_model: str = "gpt-4o-mini-tts"
    openai_tts_voice: str = "ash"
    # Per-call time limits (agent/resilience.py): past them a provider counts as failed and the next one answers.
    voice_stt_timeout_seconds: float = 3.0  # per STT provider and utterance (a longer utterance gets its length)
    voice_tts_timeout_seconds: float = 5.0  # per TTS provider, to each piece of a sentence's audio
    voice_brain_timeout_seconds: float = 5.0  # a flow step, for agent/brain.py (an apology past it)
    knowledge_answer_timeout_seconds: float = 2.0  # a RAG answer; past it only Q&A pairs answer (0 → no limit)

    # Knowledge base: uploads, background processing and answers.
    knowledge_max_upload_mb: int = 25
    knowledge_max_pages: int = 2000  # PDFs with more pages are rejected (protects the worker)
    knowledge_max_attempts: int = 3  # processing tries per document before it is marked failed
    knowledge_stale_minutes: int = 10  # a document stuck in a processing state this long is re-queued
    knowledge_answer_threshold: float = 0.5  # default confidence an answer needs (a RAG node may override)
    knowledge_fetch_timeout_seconds: float = 10.0
    knowledge_fetch_max_mb: int = 5  # per fetched web page or sitemap
    knowledge_sitemap_max_pages: int = 50
    # Web sources on loopback/private addresses are refused (they would let users probe the server's network);
    # turn on for an intranet deployment.
    knowledge_fetch_allow_private_networks: bool = False
    # Optional LLM rephrasing of grounded answers through any OpenAI-compatible endpoint (OPENAI_API_KEY and/or
    # OPENAI_BASE_URL). Empty model → off: the extractive answer is spoken as it is.
    knowledge_rephrase_model: str = ""
    knowledge_rephrase_timeout_seconds: float = 4.0
    # Optional LLM understanding of each caller turn (intent, slots, standalone questions; services/flows/
    # understanding.py): "" off | openai (any OpenAI-compatible endpoint: OPENAI_BASE_URL and/or OPENAI_API_KEY)
    # | gemini (GEMINI_API_KEY, GEMINI_BASE_URL). Empty model → the provider's default. The flow engine stays the
    # authority; past the timeout, on an error or an open circuit the local rules read the turn alone.
    understanding_provider: str = ""
    understanding_model: str = ""
    understanding_timeout_seconds: float = 1.5
    # Optional Tavily web search when the knowledge base has no answer, at most once per conversation. Needs
    # TAVILY_API_KEY as well. TAVILY_BASE_URL empty → Tavily's own API host.
    knowledge_web_fallback: bool = False
    knowledge_web_timeout_seconds: float = 5.0
    tavily_base_url: str = ""
    # Optional Gemini File Search answers when the knowledge base has no answer (tried before the web). Needs
    # GEMINI_API_KEY and the name of an existing File Search store (e.g. "fileSearchStores/abc"); empty → off.
    # GEMINI_BASE_URL empty → Google's own API host.
    knowledge_gemini_store: str = ""
    knowledge_gemini_model: str = "gemini-2.5-flash"
    knowledge_gemini_timeout_seconds: float = 4.0
    gemini_base_url: str = ""
    # With both set, ready documents are also copied into that store and removed from it when deleted
    # (services/knowledge/filesearch_sync.py): the timeout of one upload or delete request, and how long a job
    # waits for the store to index an upload.
    knowledge_gemini_sync_timeout_seconds: float = 60.0
    knowledge_gemini_sync_wait_seconds: float = 180.0
    # Name of the Redis list the job queue uses (separate deployments or test runs sharing one Redis).
    job_queue_name: str = "jobs"
    # Run a job worker thread inside the app process. Turn off when dedicated `python -m quantum_voice.worker`
    # processes take the Redis queue.
    worker_in_app: bool = True

    # Optional cloud providers' keys. Every job has a local default; these only switch adapters on.
    deepgram_api_key: SecretStr = SecretStr("")
    openai_api_key: SecretStr = SecretStr("")
    openai_base_url: str = ""
    gemini_api_key: SecretStr = SecretStr("")
    tavily_api_key: SecretStr = SecretStr("")
    # A LiveKit server as the media layer instead of the embedded transport (all three set; docs/voice.md).
    livekit_url: str = ""
    livekit_api_key: SecretStr = SecretStr("")
    livekit_api_secret: SecretStr = SecretStr("")

    log_level: str = "INFO"  # DEBUG | INFO | WARNING | ERROR, for the app, the worker and the voice sidecar

    @field_validator("database_url")
    @classmethod
    def _normalise_database_url(cls, value: str) -> str:
        if value.startswith("postgres://"):
            value = "postgresql://" + value[len("postgres://") :]
        if value.startswith("postgresql://"):
            value = "postgresql+psycopg://" + value[len("postgresql://") :]
        return value

    @property
    def effective_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'quantum_voice.db').as_posix()}"

    @property
    def effective_secret_key(self) -> str:
        value = self.secret_key.get_secret_value()
        return value or load_or_create_secret_key(self.data_dir)

    @property
    def effective_cookie_secure(self) -> bool:
        if self.cookie_secure is not None:
            return self.cookie_secure
        return self.app_url.startswith("https://")

    @property
    def extra_origins(self) -> list[str]:
        return [o.strip().rstrip("/").lower() for o in self.cors_allowed_origins.split(",") if o.strip()]

    def app_link(self, path: str, token: str) -> str:
        """An absolute link into the app carrying a one-time token (emails)."""
        return f"{self.app_url.rstrip('/')}{path}?token={token}"

    @property
    def smtp_configured(self) -> bool:
        return bool(self.smtp_host)


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()


def reset_settings() -> None:
    """Forget the cached settings so the next call re-reads the environment (tests, CLI)."""
    get_settings.cache_clear()
