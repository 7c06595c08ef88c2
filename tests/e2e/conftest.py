"""A real app server (Reflex prod build, one port) on a fresh SQLite database, and headless Chromium."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from quantum_voice.core.config import REPO_ROOT
from tests.conftest import create_postgres_database, drop_postgres_database
from tests.unit.notifications.receivers import Receiver
from tests.local_server import free_port

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-quic"]
ARTIFACTS = REPO_ROOT / "test-artifacts"


@dataclass
class LiveApp:
    url: str
    database_url: str
    log_path: Path
    data_dir: Path  # its secret key too: a second voice sidecar beside it needs both
    slack: Receiver  # where the app's Slack and Asana requests go (SLACK_BASE_URL, ASANA_BASE_URL)
    asana: Receiver



def _wait_until_up(url: str, proc: subprocess.Popen, log_path: Path, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the app exited early:\n{log_path.read_text()[-4000:]}")
        try:
            if httpx.get(url + "/api/health", timeout=2).status_code in (200, 503) and \
                    httpx.get(url + "/login", timeout=5, follow_redirects=True).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(1)
    raise RuntimeError(f"the app did not come up in {timeout:.0f} s:\n{log_path.read_text()[-4000:]}")


@pytest.fixture(scope="session")
def live_app(tmp_path_factory) -> Iterator[LiveApp]:
    data_dir = tmp_path_factory.mktemp("live-data")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL", "SMTP_HOST")}
    slack, asana = Receiver("slack").start(), Receiver("asana").start()
    env.update(DATA_DIR=str(data_dir), APP_URL=url, PORT=str(port), LOG_LEVEL="INFO", SLACK_BASE_URL=slack.url,
               ASANA_BASE_URL=asana.url,
               # webhook tests deliver to receivers on 127.0.0.1, as an on-prem receiver would be
               WEBHOOK_ALLOW_PRIVATE_TARGETS="true", WEBHOOK_ALLOW_HTTP="true")
    # Given a PostgreSQL DATABASE_URL, the app under test runs on a fresh database on that server.
    database_url = f"sqlite:///{data_dir / 'quantum_voice.db'}"
    if os.environ.get("DATABASE_URL", "").startswith("postgres"):
        database_url = env["DATABASE_URL"] = create_postgres_database()
    ARTIFACTS.mkdir(exist_ok=True)
    log_path = ARTIFACTS / "live-app.log"
    with open(log_path, "w") as log:
        proc = subprocess.Popen(["bash", str(REPO_ROOT / "scripts" / "run.sh")], cwd=REPO_ROOT, env=env,
                                stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        _wait_until_up(url, proc, log_path, timeout=300)
        yield LiveApp(url=url, database_url=database_url, log_path=log_path, data_dir=data_dir, slack=slack,
                      asana=asana)
    finally:
        slack.stop()
        asana.stop()
        os.killpg(proc.pid, 15)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, 9)
        if database_url.startswith("postgres"):
            drop_postgres_database(database_url)


@pytest.fixture(scope="session")
def spare_sidecar(live_app) -> Iterator[Callable[[], subprocess.Popen]]:
    """Starts (once, when called) a second voice sidecar beside the live app, on its database and secret key; it runs
    until the session ends, so a test may kill the app's own sidecar and the later tests still have one."""
    started: list[subprocess.Popen] = []

    def start() -> subprocess.Popen:
        if not started:
            env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "SMTP_HOST")}
            env.update(DATA_DIR=str(live_app.data_dir), DATABASE_URL=live_app.database_url, LOG_LEVEL="INFO")
            with open(ARTIFACTS / "spare-sidecar.log", "w") as log:
                started.append(subprocess.Popen([sys.executable, "-m", "agent"], cwd=REPO_ROOT, env=env, stdout=log,
                                                stderr=subprocess.STDOUT, start_new_session=True))
        return started[0]

    yield start
    for proc in started:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI"):
            pytest.fail(f"Chromium not found at {CHROMIUM}; scripts/install-system-deps.sh installs it")
        pytest.skip(f"Chromium not found at {CHROMIUM}")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield b
        b.close()


@pytest.fixture
def page(browser, request):
    context = browser.new_context(viewport={"width": 1280, "height": 860})
    pg = context.new_page()
    pg.set_default_timeout(30_000)
    # A click before the page's scripts have run (and React has hydrated) was sometimes lost under load: every
    # navigation waits until the page's network is quiet, as a person would see the page ready.
    plain_goto = pg.goto
    pg.goto = lambda url, **options: plain_goto(url, **{"wait_until": "networkidle", **options})
    yield pg
    failed = getattr(request.node, "rep_call", None)
    if failed is not None and failed.failed:
        pg.screenshot(path=str(ARTIFACTS / f"{request.node.name}.png"), full_page=True)
    context.close()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    if rep.when == "call":
        item.rep_call = rep

