"""How calls reach the voice loop. ``webrtc``: browser calls over WebRTC (aiortc) inside the sidecar, signalled by
the app through ``signalling`` (the sidecar's media server); the LiveKit transport is ``agent/livekit_worker.py``."""
