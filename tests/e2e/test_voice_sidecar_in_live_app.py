"""`make run` starts the voice sidecar beside the app: it loads the local models and reports to /api/health."""

import time

import httpx



def test_the_voice_sidecar_reports_its_heartbeat_to_the_app(live_app):
    deadline = time.monotonic() + 180  # the sidecar loads Whisper, Piper, the VAD and the intent model first
    sidecar = None
    while time.monotonic() < deadline:
        sidecar = httpx.get(f"{live_app.url}/api/health", timeout=10).json()["components"]["voice_sidecar"]
        if sidecar["status"] == "ok":
            break
        time.sleep(2)
    assert sidecar is not None and sidecar["status"] == "ok", (sidecar, live_app.log_path.read_text()[-3000:])
    assert "1 sidecar(s), 0 active call(s)" in sidecar["detail"]
