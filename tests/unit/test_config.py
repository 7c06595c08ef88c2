import stat

from quantum_voice.core.config import Settings, get_settings, reset_settings


def test_defaults_use_a_sqlite_file_under_the_data_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("DATA_DIR", str(tmp_path))
    reset_settings()
    settings = get_settings()
    assert settings.effective_database_url == f"sqlite:///{tmp_path.as_posix()}/quantum_voice.db"
    assert settings.redis_url == ""
    assert not settings.smtp_configured


def test_secret_key_is_generated_once_with_owner_only_permissions(tmp_path):
    settings = Settings(data_dir=tmp_path)
    first = settings.effective_secret_key
    assert len(first) >= 48
    assert Settings(data_dir=tmp_path).effective_secret_key == first
    mode = stat.S_IMODE((tmp_path / "secret_key").stat().st_mode)
    assert mode == 0o600


def test_explicit_secret_key_wins(tmp_path, monkeypatch):
    monkeypatch.setenv("SECRET_KEY", "from-the-environment")
    assert Settings(data_dir=tmp_path).effective_secret_key == "from-the-environment"
    assert not (tmp_path / "secret_key").exists()


def test_postgres_urls_use_psycopg3(monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgres://u@db:5432/app")
    assert Settings().database_url == "postgresql+psycopg://u@db:5432/app"
    monkeypatch.setenv("DATABASE_URL", "postgresql://u@db/app")
    assert Settings().database_url == "postgresql+psycopg://u@db/app"


def test_cookie_secure_follows_the_app_url_unless_set(monkeypatch):
    assert not Settings(app_url="http://localhost:3000").effective_cookie_secure
    assert Settings(app_url="https://voice.example.com").effective_cookie_secure
    assert Settings(app_url="http://localhost:3000", cookie_secure=True).effective_cookie_secure


def test_secrets_are_not_shown_in_repr(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-very-secret")
    monkeypatch.setenv("SMTP_PASSWORD", "mail-secret")
    text = repr(Settings())
    assert "sk-very-secret" not in text and "mail-secret" not in text
