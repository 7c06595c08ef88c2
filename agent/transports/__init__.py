"""How calls reach the voice loop. Browser calls, inside the sidecar (``browser_calls``): over WebRTC (``webrtc``,
aiortc) or, when WebRTC cannot connect, as PCM over a WebSocket (``pcm_socket``), both opened by the app through
``signalling`` (the sidecar's media server); the LiveKit transport is ``agent/livekit_worker.py``."""
