/* The in-browser call of the public call page (/call/{slug}); docs/calls.md says what it does for the caller.
 *
 * window.QVCall.start({ticket, color, rootId, rawAudio, media}) draws the call inside #rootId and runs it:
 * microphone → two rings → WebRTC to a voice sidecar (the offer goes to POST /api/public/calls with the gate's
 * ticket), or 16 kHz PCM over the WebSocket /api/public/calls/socket when WebRTC cannot connect, or a LiveKit room
 * (media "livekit") → live transcript, status line, level ring, Mute and Hang up → metrics to
 * POST /api/public/calls/metrics at the end. A call whose sidecar dies is resumed on another, with backoff.
 *
 * The file, top to bottom (plain browser JavaScript, no bundler; Node loads the same file for tests/js/):
 *   Settings and messages   timings, the socket's audio format, every text the caller reads
 *   Helpers                 small pure functions: errors, the socket's address, the microphone's PCM frames
 *   Transcript              the events channel's transcript messages → the lines to show (pure)
 *   CallView                all drawing: status line, level ring, transcript bubbles, Mute and Hang up
 *   CallAudio               the page's AudioContext: rings, level meter, microphone capture, the agent's PCM
 *   Transports              WebRtcTransport, SocketTransport, LiveKitTransport behind one interface
 *   Call                    the call's life cycle: placing it, the fallback, resuming it, mute, hang-up, metrics
 *   Browser entry           window.QVCall, and the browser's objects as the `env` everything above is given
 * Nothing above the browser entry touches a global: fetch, WebSocket, RTCPeerConnection, the DOM and the clock all
 * come in `env`, so tests/js/call.test.js runs the same code in Node with fakes.
 */
(function () {
  "use strict";

  /* ---- Settings and messages ---------------------------------------------------------------------------- */

  var STATES = { listening: "Listening…", thinking: "Thinking…", speaking: "Speaking" };
  var CONNECT_TIMEOUT_MS = 8000; // WebRTC not "connected" by then: UDP is blocked, or a NAT needs a TURN server
  var ICE_GATHERING_MS = 3000; // the offer goes with the candidates found by then
  var STATS_EVERY_MS = 3000; // WebRTC's round trip, jitter and losses, read while the connection is alive
  var RESUME_AFTER_MS = 2000; // a WebRTC connection disconnected (or failed) this long has lost its sidecar
  // waits before each try to resume a dropped call: ~45 s in all, inside the server's CALL_RESUME_GRACE_SECONDS (60)
  var RESUME_DELAYS_MS = [0, 2000, 4000, 6000, 8000, 10000, 15000];
  var PCM_RATE = 16000; // the socket's audio, both ways: 16 kHz mono s16le
  var FRAME_SAMPLES = 320; // 20 ms of it per message
  var JITTER_SECONDS = 0.1; // how far ahead of the clock the agent's audio is scheduled
  var MAX_BUFFERED_BYTES = 64000; // the socket is this far behind (2 s of microphone): drop rather than lag
  var LIVEKIT_SCRIPT = "/vendor/livekit-client.umd.js";
  var DEFAULT_COLOR = "#6E56CF";
  // The microphone's samples, off the audio thread, as they come (128 at a time).
  var CAPTURE_WORKLET = "class QVCapture extends AudioWorkletProcessor {\n" +
    "  process(inputs) { var input = inputs[0]; if (input && input[0]) this.port.postMessage(input[0].slice(0));" +
    " return true; }\n}\nregisterProcessor('qv-capture', QVCapture);\n";

  var MESSAGES = {
    microphone: "Getting your microphone…",
    ringing: "Ringing…",
    connecting: "Connecting…",
    connected: "Connected",
    reconnecting: "Reconnecting…",
    muted: "Muted",
    unmuted: "Listening…",
    microphoneBlocked: "Microphone access is blocked. Allow the microphone for this site (the icon in the address " +
      "bar), then start a new call.",
    noMicrophone: "We couldn't find a microphone. Plug one in or try another device, then start a new call.",
    noCalls: "This browser can't make calls. Try an up-to-date Chrome, Safari or Firefox.",
    notConnected: "We couldn't connect the call. Check your connection and try again.",
    busy: "Our assistant is busy right now. Please try again in a minute.",
    reconnectFailed: "We couldn't reconnect your call. Press Call to start again.",
    hungUp: "Call ended. Thanks for calling!",
    endedByAgent: "The call has ended. Thanks for calling!",
    missingPart: "The call could not start (a part of this page is missing). Please try again later.",
  };

  /* ---- Helpers ------------------------------------------------------------------------------------------- */

  function noop() {}

  function userError(message, retry) {
    var error = new Error(message);
    error.userMessage = message;
    if (retry !== undefined) error.retry = retry;
    return error;
  }

  /* WebRTC cannot carry the call, and the credential (the gate's ticket) was not used: the socket can have it. */
  function webrtcUnavailable(cause) {
    var error = new Error("WebRTC unavailable: " + (cause && cause.message));
    error.webrtcUnavailable = true;
    return error;
  }

  /* The call was placed over WebRTC but never connected: the socket can take it over with its call token. */
  function notConnected() {
    var error = new Error("WebRTC did not connect");
    error.notConnected = true;
    return error;
  }

  /* A connection closed by this page (hung up) while it was still connecting. */
  function closedByPage() {
    var error = new Error("closed");
    error.closed = true;
    error.retry = false;
    return error;
  }

  /* Whether a refused resume may work a little later: no sidecar could take it yet (503), or the call's own
   * sidecar still holds it (its connection may yet come back or be dropped). Anything else is final. */
  function resumable(status, code) {
    return status >= 500 || code === "call_still_connected" || code === "resume_unavailable";
  }

  /* The socket's address on this origin: {ticket} (a new call), {call_token} (a WebRTC call that did not
   * connect) or {resume} (the call token of a call that dropped). */
  function socketUrl(location, credential) {
    var query = credential.ticket ? "ticket=" + encodeURIComponent(credential.ticket)
      : credential.resume ? "resume=" + encodeURIComponent(credential.resume)
      : "call_token=" + encodeURIComponent(credential.call_token);
    return (location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/api/public/calls/socket?" + query;
  }

  function socketOnly(location) {
    return new URLSearchParams(location.search || "").get("transport") === "socket";
  }

  function postJson(fetch, url, body) {
    return fetch(url, { method: "POST", keepalive: true, headers: { "content-type": "application/json" },
                        body: JSON.stringify(body) });
  }

  function readJson(response) {
    return response.json().catch(function () { return {}; });
  }

  function setTracksEnabled(stream, enabled) {
    (stream ? stream.getAudioTracks() : []).forEach(function (track) { track.enabled = enabled; });
  }

  /* Microphone samples (floats at the context's rate, any count) → 20 ms Int16 frames at 16 kHz, to send(). Each
   * output sample is the mean of the input samples in its 1/16000 s: a plain low-pass before dropping the rest. */
  function pcmFramer(fromRate, send) {
    var step = fromRate / PCM_RATE, position = 0, sum = 0, count = 0;
    var frame = new Int16Array(FRAME_SAMPLES), filled = 0;
    return function (samples) {
      for (var i = 0; i < samples.length; i++) {
        sum += samples[i];
        count++;
        position += 1;
        if (position < step) continue;
        position -= step;
        var value = Math.max(-1, Math.min(1, sum / count));
        sum = count = 0;
        frame[filled++] = value < 0 ? value * 32768 : value * 32767;
        if (filled === FRAME_SAMPLES) {
          send(frame.buffer.slice(0));
          filled = 0;
        }
      }
    };
  }

  /* ---- Transcript ---------------------------------------------------------------------------------------- */

  /* The transcript messages of the call's connections (agent/transports/events.py) → the lines the page shows,
   * each {id, speaker, text}. The sidecar numbers agent turns per connection (seq, 0 first); a connection that
   * resumes the call starts at the page's next number (its base), so its turns go below those already shown. A
   * turn sent again (the caller talked over it) replaces its own line, marked "…"; the line keeps the whole
   * reply. LiveKit's segments ("lk-…" seq, either side) are updated in place too; a caller's turn is a new line. */
  function Transcript() {
    this.nextSeq = 0; // the base of the next connection
  }

  Transcript.prototype.line = function (message, base) {
    var seq = message.seq;
    if (typeof seq === "number") {
      seq += base || 0;
      this.nextSeq = Math.max(this.nextSeq, seq + 1);
    }
    var keyed = seq != null && (message.speaker === "agent" || typeof seq === "string");
    return { id: keyed ? "qv-" + message.speaker + "-" + seq : null, speaker: message.speaker,
             text: message.text + (message.interrupted ? " …" : "") };
  };

  /* ---- CallView: everything drawn, nothing else ---------------------------------------------------------- */

  function CallView(document, color) {
    this.document = document;
    this.color = color || DEFAULT_COLOR;
    this.drawn = false;
  }

  CallView.prototype.el = function (tag, attrs, children) {
    var node = this.document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (key) {
      if (key === "style") Object.assign(node.style, attrs.style);
      else if (key === "text") node.textContent = attrs.text;
      else node.setAttribute(key, attrs[key]);
    });
    (children || []).forEach(function (child) { node.appendChild(child); });
    return node;
  };

  /* actions: {mute(), hangUp()}, what the buttons do. */
  CallView.prototype.draw = function (root, actions) {
    var c = this.color;
    this.ring = this.el("div", { id: "qv-level", "aria-hidden": "true", style: {
      width: "120px", height: "120px", borderRadius: "50%", margin: "8px auto", background: c, opacity: "0.9",
      transition: "transform 80ms linear", boxShadow: "0 0 0 12px " + c + "33" } });
    this.status = this.el("p", { id: "qv-status", role: "status", "aria-live": "polite", text: MESSAGES.microphone,
      style: { textAlign: "center", fontSize: "20px", fontWeight: "600", margin: "4px 0" } });
    this.transcript = this.el("div", { id: "qv-transcript", "aria-live": "polite", "aria-label": "Live transcript",
      style: { display: "flex", flexDirection: "column", gap: "8px", maxHeight: "45vh", overflowY: "auto",
               padding: "8px 0", fontSize: "17px", lineHeight: "1.4" } });
    this.muteButton = this.el("button", { id: "qv-mute", type: "button", "aria-pressed": "false", text: "Mute",
      style: buttonStyle("var(--gray-a4)", "var(--gray-12)") });
    this.hangupButton = this.el("button", { id: "qv-hangup", type: "button", text: "Hang up",
      style: buttonStyle("var(--red-9)", "white") });
    var controls = this.el("div", { style: { display: "flex", gap: "12px", marginTop: "8px" } },
                           [this.muteButton, this.hangupButton]);
    this.audio = this.el("audio", { id: "qv-remote-audio", autoplay: "" });
    root.innerHTML = "";
    [this.ring, this.status, this.transcript, controls, this.audio].forEach(function (n) { root.appendChild(n); });
    this.muteButton.addEventListener("click", function () { actions.mute(); });
    this.hangupButton.addEventListener("click", function () { actions.hangUp(); });
    this.drawn = true;
  };

  function buttonStyle(background, color) {
    return { flex: "1", minHeight: "56px", borderRadius: "999px", border: "none", fontSize: "18px",
             fontWeight: "600", background: background, color: color, cursor: "pointer" };
  }

  CallView.prototype.say = function (text) {
    if (this.drawn) this.status.textContent = text;
  };

  CallView.prototype.showTransport = function (kind) {
    this.status.setAttribute("data-transport", kind);
  };

  CallView.prototype.showReconnecting = function (reconnecting) {
    if (reconnecting) this.status.setAttribute("data-reconnecting", "true");
    else this.status.removeAttribute("data-reconnecting");
  };

  CallView.prototype.showMuted = function (muted) {
    this.muteButton.textContent = muted ? "Unmute" : "Mute";
    this.muteButton.setAttribute("aria-pressed", String(muted));
    this.say(muted ? MESSAGES.muted : MESSAGES.unmuted);
  };

  /* line: {id, speaker, text} from Transcript; a line with an id already shown is updated in place. */
  CallView.prototype.showLine = function (line) {
    var node = line.id ? this.document.getElementById(line.id) : null;
    if (!node) {
      var mine = line.speaker === "caller";
      node = this.el("div", { "class": "qv-turn qv-" + line.speaker, "data-speaker": line.speaker, style: {
        alignSelf: mine ? "flex-end" : "flex-start", maxWidth: "85%", padding: "10px 14px", borderRadius: "16px",
        background: mine ? this.color : "var(--gray-a3)", color: mine ? "white" : "var(--gray-12)" } });
      if (line.id) node.id = line.id;
      this.transcript.appendChild(node);
    }
    node.textContent = line.text;
    this.transcript.scrollTop = this.transcript.scrollHeight;
  };

  /* The ring follows the call's audio level (0–1). */
  CallView.prototype.showLevel = function (level) {
    this.ring.style.transform = "scale(" + (1 + Math.min(level * 1.5, 0.6)).toFixed(3) + ")";
    this.ring.setAttribute("data-level", level.toFixed(3));
  };

  CallView.prototype.playStream = function (stream) {
    this.audio.srcObject = stream;
    var played = this.audio.play();
    if (played && played.catch) played.catch(noop);
  };

  /* LiveKit attaches the agent's track to an audio element of its own: it takes the place of ours. */
  CallView.prototype.useAudioElement = function (element) {
    element.id = "qv-remote-audio";
    this.audio.replaceWith(element);
    this.audio = element;
  };

  CallView.prototype.showEnded = function (message, failed) {
    if (!this.drawn) return;
    this.say(message);
    if (failed) this.status.setAttribute("data-failed", "true");
    this.status.setAttribute("data-ended", "true");
    this.muteButton.disabled = this.hangupButton.disabled = true;
    this.ring.style.transform = "scale(1)";
    this.ring.style.opacity = "0.3";
    var again = this.document.querySelector(".qv-call-again"); // pages/call.py's "Start a new call"
    if (again) again.style.display = "inline-flex";
  };

  /* ---- CallAudio: the page's AudioContext -------------------------------------------------------------- */

  function CallAudio(env) {
    this.env = env;
    this.ctx = null;
    this.watching = null;
    this.workletAdded = false;
  }

  /* The context, made on first use; null where the browser has none. */
  CallAudio.prototype.context = function () {
    if (!this.ctx && this.env.AudioContext) this.ctx = new this.env.AudioContext();
    return this.ctx;
  };

  CallAudio.prototype.rings = async function (count, stopped) {
    var ctx = this.context(), clock = this.env.clock;
    if (!ctx) return;
    for (var i = 0; i < count && !stopped(); i++) {
      var gain = ctx.createGain();
      gain.gain.value = 0.08;
      gain.connect(ctx.destination);
      var tones = [440, 480].map(function (hz) {
        var osc = ctx.createOscillator();
        osc.frequency.value = hz;
        osc.connect(gain);
        osc.start();
        return osc;
      });
      await clock.sleep(1100);
      tones.forEach(function (osc) { osc.stop(); });
      await clock.sleep(700);
    }
  };

  CallAudio.prototype.source = function (stream) {
    return this.context().createMediaStreamSource(stream);
  };

  /* show(level) follows the louder of nodes (the agent's audio and the caller's); watching anew (a resumed call's
   * new audio) stops the older loop, and so does close(). */
  CallAudio.prototype.watchLevel = function (nodes, show) {
    var ctx = this.context(), self = this, clock = this.env.clock;
    var watching = this.watching = {};
    var analysers = nodes.map(function (node) {
      var analyser = ctx.createAnalyser();
      analyser.fftSize = 512;
      node.connect(analyser);
      return analyser;
    });
    var samples = new Uint8Array(512);
    (function measure() {
      if (self.watching !== watching) return;
      var level = 0;
      analysers.forEach(function (analyser) {
        analyser.getByteTimeDomainData(samples);
        for (var i = 0; i < samples.length; i++) level = Math.max(level, Math.abs(samples[i] - 128) / 128);
      });
      show(level);
      clock.frame(measure);
    })();
  };

  /* The microphone as 20 ms 16 kHz Int16 frames to send(), from an AudioWorklet (or a ScriptProcessor where there
   * is none). Resolves with a function that stops it. */
  CallAudio.prototype.capture = async function (mic, send) {
    var ctx = this.context();
    var source = ctx.createMediaStreamSource(mic);
    var silent = ctx.createGain(); // the capture node must reach the destination to be run; it adds nothing
    silent.gain.value = 0;
    silent.connect(ctx.destination);
    var framer = pcmFramer(ctx.sampleRate, send);
    var node = (await this.workletNode(ctx, framer)) || scriptNode(ctx, framer);
    source.connect(node);
    node.connect(silent); // closing the context at the end stops it
    return function stop() {
      try { source.disconnect(); node.disconnect(); } catch (e) { /* the context is closed already */ }
    };
  };

  CallAudio.prototype.workletNode = async function (ctx, framer) {
    var env = this.env;
    if (!ctx.audioWorklet || !env.AudioWorkletNode) return null;
    var url = env.URL.createObjectURL(new env.Blob([CAPTURE_WORKLET], { type: "application/javascript" }));
    try {
      if (!this.workletAdded) await ctx.audioWorklet.addModule(url); // once per context: a name registers once
      this.workletAdded = true;
      var node = new env.AudioWorkletNode(ctx, "qv-capture");
      node.port.onmessage = function (ev) { framer(ev.data); };
      return node;
    } catch (e) {
      return null; // the module was refused (an older browser): the older node does the same
    } finally {
      env.URL.revokeObjectURL(url);
    }
  };

  function scriptNode(ctx, framer) {
    var node = ctx.createScriptProcessor(2048, 1, 1);
    node.onaudioprocess = function (ev) { framer(ev.inputBuffer.getChannelData(0)); };
    return node;
  }

  CallAudio.prototype.player = function (stats) {
    return new PcmPlayer(this.context(), stats);
  };

  CallAudio.prototype.close = function () {
    this.watching = null;
    if (this.ctx) this.ctx.close().catch(noop);
  };

  /* The agent's 16 kHz PCM from the socket, played as it comes: each chunk is scheduled right after the previous
   * one, a little ahead of the clock (jitter). When the audio stops (between replies, or a barge-in dropped the
   * rest), playback starts afresh with the next chunk. A chunk that comes late in the middle of speech is a drop. */
  function PcmPlayer(ctx, stats) {
    this.ctx = ctx;
    this.stats = stats;
    this.next = 0;
    this.output = ctx.createGain();
    this.output.connect(ctx.destination);
  }

  PcmPlayer.prototype.play = function (pcm) {
    var ctx = this.ctx;
    if (!pcm.length || ctx.state === "closed") return;
    var buffer = ctx.createBuffer(1, pcm.length, PCM_RATE);
    var data = buffer.getChannelData(0);
    for (var i = 0; i < pcm.length; i++) data[i] = pcm[i] / 32768;
    var source = ctx.createBufferSource();
    source.buffer = buffer;
    source.connect(this.output);
    var now = ctx.currentTime;
    if (this.next < now) {
      if (this.next && now - this.next < 0.5) this.stats.audio_drops = (this.stats.audio_drops || 0) + 1;
      this.next = now + JITTER_SECONDS;
    }
    source.start(this.next);
    this.next += buffer.duration;
  };

  /* ---- Transports: each carries a call between this page and a voice sidecar, one way --------------------
   *
   * new XTransport(env, media, listener); media: {mic (the microphone's stream), audio (CallAudio), stats (the
   * call's metrics, which it adds to)}; listener: {onEvent(message), onRemoteAudio({stream, element, node}),
   * onLost(), onBack()}.
   *   kind               "webrtc" | "socket" | "livekit"
   *   callToken          the call's token once the app has given one (hang-up, metrics, resuming)
   *   start(credential)  places the call with {ticket} (the gate's) or {call_token} (a WebRTC call that did not
   *                      connect); resolves once it is connected. Rejects with an Error that may say: userMessage
   *                      (for the caller), retry (a resume refused for now, not for good), webrtcUnavailable (the
   *                      ticket was not used: the socket can have it), notConnected (placed, never connected: the
   *                      socket can take it over with callToken), closed (close() came first).
   *   resume(callToken)  the same for a call whose sidecar died: another sidecar carries it on.
   *   hangUp(reason)     tells the sidecar the caller hung up (reason: the conversation's end reason).
   *   mute(muted)        stops or restarts sending the microphone.
   *   readStats()        adds what it measures to media.stats.
   *   isConnected()      whether it carries audio right now (a lost WebRTC connection may come back by itself).
   *   close()            stops it, without a word to the sidecar.
   * listener.onEvent gets the sidecar's events (agent/transports/events.py); onLost says the connection dropped
   * without an "ended" (its sidecar may be gone); onBack that a dropped WebRTC connection came back by itself. */

  function WebRtcTransport(env, media, listener) {
    var self = this;
    this.kind = "webrtc";
    this.env = env;
    this.media = media;
    this.listener = listener;
    this.pc = this.channel = this.callToken = null;
    this.up = this.closed = false;
    this.outcome = new Promise(function (resolve) { self.settle = resolve; }); // "connected" | "failed" | "closed"
  }

  WebRtcTransport.prototype.start = function (credential) {
    return this.place("/api/public/calls", { ticket: credential.ticket }, false);
  };

  WebRtcTransport.prototype.resume = function (callToken) {
    return this.place("/api/public/calls/resume", { call_token: callToken }, true);
  };

  WebRtcTransport.prototype.place = async function (url, credential, resuming) {
    var pc = await this.offer();
    var response = await this.env.fetch(url, { method: "POST", headers: { "content-type": "application/json" },
      body: JSON.stringify(Object.assign(credential, { sdp: pc.localDescription.sdp, type: "offer" })) });
    var body = await readJson(response);
    if (!response.ok) throw refusal(response.status, body.error || {}, resuming);
    this.callToken = body.call_token;
    await pc.setRemoteDescription({ type: "answer", sdp: body.sdp });
    var clock = this.env.clock;
    var outcome = await Promise.race([this.outcome,
                                      clock.sleep(CONNECT_TIMEOUT_MS).then(function () { return "timeout"; })]);
    if (outcome === "closed") throw closedByPage();
    if (outcome !== "connected") throw notConnected();
  };

  function refusal(status, error, resuming) {
    if (error.code === "webrtc_unavailable") return webrtcUnavailable(new Error(error.message));
    var refused = new Error(error.message || "call refused");
    refused.userMessage = status === 503 && !resuming ? (error.message || MESSAGES.busy) : error.message;
    refused.retry = resumable(status, error.code);
    return refused;
  }

  /* A peer connection with the microphone and the "events" channel, its offer made and its candidates gathered;
   * any failure here means this browser cannot do WebRTC (the ticket is still unused). */
  WebRtcTransport.prototype.offer = async function () {
    var self = this, env = this.env, mic = this.media.mic;
    try {
      var pc = this.pc = new env.RTCPeerConnection({ iceServers: [] });
      this.channel = pc.createDataChannel("events");
      this.channel.onmessage = function (ev) { if (!self.closed) self.listener.onEvent(JSON.parse(ev.data)); };
      mic.getTracks().forEach(function (track) { pc.addTrack(track, mic); });
      pc.ontrack = function (ev) {
        if (self.closed) return;
        self.listener.onRemoteAudio({ stream: ev.streams && ev.streams[0] ? ev.streams[0]
                                                                            : new env.MediaStream([ev.track]) });
      };
      pc.onconnectionstatechange = function () { self.onState(pc.connectionState); };
      await pc.setLocalDescription(await pc.createOffer());
      await gathered(pc, ICE_GATHERING_MS, env.clock);
      return pc;
    } catch (error) {
      throw webrtcUnavailable(error);
    }
  };

  WebRtcTransport.prototype.onState = function (state) {
    var self = this, clock = this.env.clock;
    if (this.closed) return;
    if (state === "connected") {
      clock.clearTimeout(this.lostTimer);
      if (this.up) return this.listener.onBack(); // back by itself after a drop
      this.up = true;
      this.statsTimer = clock.setInterval(function () { self.readStats(); }, STATS_EVERY_MS);
      this.settle("connected");
    } else if (!this.up) {
      if (state === "failed") this.settle("failed");
    } else if (state === "failed" || state === "disconnected") {
      // no "ended" came: the sidecar may be gone. Give the connection a moment to come back first
      clock.clearTimeout(this.lostTimer);
      this.lostTimer = clock.setTimeout(function () {
        if (!self.closed && !self.isConnected()) self.listener.onLost();
      }, state === "failed" ? 0 : RESUME_AFTER_MS);
    }
  };

  WebRtcTransport.prototype.isConnected = function () {
    return !!this.pc && this.pc.connectionState === "connected";
  };

  WebRtcTransport.prototype.hangUp = function (reason) {
    if (!this.channel || this.channel.readyState !== "open") return;
    try { this.channel.send(JSON.stringify({ type: "hangup", reason: reason })); } catch (e) { /* closing anyway */ }
  };

  WebRtcTransport.prototype.mute = function (muted) {
    setTracksEnabled(this.media.mic, !muted);
  };

  WebRtcTransport.prototype.readStats = async function () {
    if (!this.pc || this.closed) return;
    var stats = this.media.stats;
    (await this.pc.getStats()).forEach(function (report) {
      if (report.type === "candidate-pair" && report.nominated && report.currentRoundTripTime != null) {
        stats.rtt_ms = Math.round(report.currentRoundTripTime * 1000);
      } else if (report.type === "inbound-rtp" && report.kind === "audio") {
        stats.jitter_ms = Math.round((report.jitter || 0) * 1000);
        stats.packets_lost = Math.max(0, report.packetsLost || 0);
        stats.audio_drops = report.concealmentEvents || 0;
      }
    });
  };

  WebRtcTransport.prototype.close = function () {
    if (this.closed) return;
    this.closed = true;
    this.env.clock.clearTimeout(this.lostTimer);
    this.env.clock.clearInterval(this.statsTimer);
    if (this.channel) this.channel.onmessage = null;
    if (this.pc) {
      this.pc.onconnectionstatechange = this.pc.ontrack = null;
      try { this.pc.close(); } catch (e) { /* already closed */ }
    }
    this.settle("closed");
  };

  function gathered(pc, timeoutMs, clock) {
    if (pc.iceGatheringState === "complete") return Promise.resolve();
    return new Promise(function (resolve) {
      var timer = clock.setTimeout(resolve, timeoutMs);
      pc.addEventListener("icegatheringstatechange", function () {
        if (pc.iceGatheringState === "complete") { clock.clearTimeout(timer); resolve(); }
      });
    });
  }

  /* The call as PCM over /api/public/calls/socket on this origin (the app relays it to a sidecar): the
   * microphone goes up as 20 ms 16 kHz frames, the agent's audio comes down the same way, events as text. */
  function SocketTransport(env, media, listener) {
    this.kind = "socket";
    this.env = env;
    this.media = media;
    this.listener = listener;
    this.socket = this.callToken = null;
    this.closed = false;
    this.stopCapture = this.abort = noop;
  }

  SocketTransport.prototype.start = function (credential) {
    return this.open(credential);
  };

  SocketTransport.prototype.resume = function (callToken) {
    return this.open({ resume: callToken });
  };

  SocketTransport.prototype.open = async function (credential) {
    var self = this, env = this.env, audio = this.media.audio;
    var ctx = audio.context();
    if (!ctx || !env.WebSocket) throw userError(MESSAGES.noCalls, false);
    if (ctx.state === "suspended") await ctx.resume().catch(noop);
    var socket = this.socket = new env.WebSocket(socketUrl(env.location, credential));
    socket.binaryType = "arraybuffer";
    var player = audio.player(this.media.stats);
    await new Promise(function (resolve, reject) {
      var started = false;
      self.abort = reject;
      socket.onmessage = function (ev) {
        if (typeof ev.data !== "string") return player.play(new Int16Array(ev.data));
        var message = JSON.parse(ev.data);
        if (message.type === "started") {
          started = true;
          self.callToken = message.call_token;
          resolve();
        } else if (message.type === "error") {
          reject(userError(message.message, resumable(message.status, message.code)));
        } else {
          self.listener.onEvent(message);
        }
      };
      socket.onclose = function () {
        if (!started) reject(userError(MESSAGES.notConnected, true));
        else if (!self.closed) self.listener.onLost(); // no "ended" came: the sidecar (or the way to it) is gone
      };
    });
    if (this.closed) return;
    var stop = await audio.capture(this.media.mic, function (frame) {
      if (socket.readyState === env.WebSocket.OPEN && socket.bufferedAmount < MAX_BUFFERED_BYTES) socket.send(frame);
    });
    if (this.closed) return stop();
    this.stopCapture = stop;
    this.listener.onRemoteAudio({ node: player.output });
  };

  SocketTransport.prototype.isConnected = function () {
    return false; // a closed socket does not come back
  };

  SocketTransport.prototype.hangUp = function (reason) {
    if (!this.socket || this.socket.readyState !== this.env.WebSocket.OPEN) return;
    try { this.socket.send(JSON.stringify({ type: "hangup", reason: reason })); } catch (e) { /* closing anyway */ }
  };

  SocketTransport.prototype.mute = function (muted) {
    setTracksEnabled(this.media.mic, !muted);
  };

  SocketTransport.prototype.readStats = function () {
    return Promise.resolve(); // the player counts audio drops as they happen
  };

  SocketTransport.prototype.close = function () {
    if (this.closed) return;
    this.closed = true;
    this.stopCapture();
    if (this.socket) {
      this.socket.onclose = this.socket.onmessage = null;
      try { this.socket.close(1000); } catch (e) { /* already closed */ }
    }
    this.abort(closedByPage());
  };

  /* LiveKit mode (the app has a LiveKit server): join the call's room with livekit-client; the voice worker is
   * dispatched into it. Its transcriptions arrive as "lk.transcription" text streams and its state as the
   * participant attribute "lk.agent.state" (livekit-agents' room I/O). Not resumed: the room outlives a worker. */
  function LiveKitTransport(env, media, listener) {
    this.kind = "livekit";
    this.env = env;
    this.media = media;
    this.listener = listener;
    this.room = this.callToken = null;
    this.closed = false;
  }

  LiveKitTransport.prototype.start = async function (credential) {
    var self = this, env = this.env, listener = this.listener, mic = this.media.mic;
    var LK = await env.loadLiveKit();
    var response = await postJson(env.fetch, "/api/public/calls/livekit", { ticket: credential.ticket });
    var body = await readJson(response);
    if (!response.ok) throw userError((body.error && body.error.message) || MESSAGES.busy);
    this.callToken = body.call_token;
    var room = this.room = new LK.Room();
    room.on(LK.RoomEvent.TrackSubscribed, function (track) {
      if (track.kind !== "audio" || self.closed) return;
      listener.onRemoteAudio({ element: track.attach(), stream: new env.MediaStream([track.mediaStreamTrack]) });
    });
    room.on(LK.RoomEvent.ParticipantAttributesChanged, function (changed, participant) {
      var state = participant && participant.attributes && participant.attributes["lk.agent.state"];
      if (state && !self.closed) listener.onEvent({ type: "agent_state", state: state });
    });
    room.on(LK.RoomEvent.Disconnected, function () {
      if (!self.closed) listener.onEvent({ type: "ended", reason: "room_disconnected" });
    });
    room.registerTextStreamHandler("lk.transcription", async function (reader, participant) {
      var text = await reader.readAll();
      var attributes = (reader.info && reader.info.attributes) || {};
      var mine = participant && participant.identity === room.localParticipant.identity;
      listener.onEvent({ type: "transcript", speaker: mine ? "caller" : "agent", text: text,
                         seq: "lk-" + (attributes["lk.segment_id"] || reader.info.id), interrupted: false });
    });
    await room.connect(body.url, body.token);
    await room.localParticipant.publishTrack(mic.getAudioTracks()[0]);
    if (this.closed) throw closedByPage();
  };

  LiveKitTransport.prototype.resume = function () {
    return Promise.reject(userError(MESSAGES.reconnectFailed, false));
  };

  LiveKitTransport.prototype.isConnected = function () {
    return false;
  };

  LiveKitTransport.prototype.hangUp = noop; // leaving the room ends the call

  LiveKitTransport.prototype.mute = function (muted) {
    setTracksEnabled(this.media.mic, !muted);
  };

  LiveKitTransport.prototype.readStats = function () {
    return Promise.resolve();
  };

  LiveKitTransport.prototype.close = function () {
    if (this.closed) return;
    this.closed = true;
    if (this.room) this.room.disconnect().catch(noop);
  };

  var TRANSPORTS = { webrtc: WebRtcTransport, socket: SocketTransport, livekit: LiveKitTransport };

  /* ---- Call: one call's life cycle --------------------------------------------------------------------- */

  /* env: what the call may touch outside itself (see browserEnv); options: {ticket, color, rootId, rawAudio,
   * media}. The single owner of the call's state: which transport carries it, its token, metrics, mute. */
  function Call(env, options) {
    this.env = env;
    this.options = options;
    this.view = new CallView(env.document, options.color);
    this.audio = new CallAudio(env);
    this.transcript = new Transcript();
    this.stats = {};
    this.startedAt = env.clock.now();
    this.mic = this.transport = this.lost = this.callToken = null;
    this.muted = this.reconnecting = false;
    this.ending = this.ended = false; // ending: hanging up (metrics still to send); ended: all closed
  }

  Call.prototype.start = async function () {
    var self = this;
    var root = await waitFor(this.env, this.options.rootId || "qv-call-root", 5000);
    if (this.ending) return;
    this.view.draw(root, { mute: function () { self.toggleMute(); },
                           hangUp: function () { self.hangUp("caller_hung_up"); } });
    var raw = !!this.options.rawAudio;
    try {
      this.mic = await this.env.getUserMedia({ audio: {
        echoCancellation: !raw, noiseSuppression: !raw, autoGainControl: !raw } });
    } catch (error) {
      var denied = error && (error.name === "NotAllowedError" || error.name === "SecurityError");
      return this.finish(denied ? MESSAGES.microphoneBlocked : MESSAGES.noMicrophone, true);
    }
    if (this.ending) return this.mic.getTracks().forEach(function (track) { track.stop(); }); // hung up meanwhile
    this.view.say(MESSAGES.ringing);
    await this.audio.rings(2, function () { return self.ending; });
    if (this.ending) return;
    this.view.say(MESSAGES.connecting);
    try {
      await this.place();
    } catch (error) {
      if (!this.ending) this.finish(error.userMessage || MESSAGES.notConnected, true);
    }
  };

  Call.prototype.place = function () {
    var ticket = { ticket: this.options.ticket };
    if (this.options.media === "livekit") return this.connect("livekit", ticket);
    if (socketOnly(this.env.location) || !this.env.RTCPeerConnection) return this.connect("socket", ticket);
    return this.connectWebRtcFirst(ticket);
  };

  /* WebRTC first: media peer to peer, with the browser's own jitter buffer and echo cancellation. When it cannot
   * connect, the call goes as PCM over the socket instead: the same call, not a second one (the gate's ticket
   * works once and its consent belongs to one call).
   * - Known before the call is placed (the offer cannot even be made, or the app answers webrtc_unavailable, which
   *   leaves the ticket, or the call token being resumed, unused): the socket opens with that credential.
   * - Found out after (not "connected" within CONNECT_TIMEOUT_MS, or failed before connecting): the socket opens
   *   with the call token of that WebRTC call, and the sidecar moves the call, its greeting not spoken yet, onto
   *   it. One conversation, one consent ticket, and the call token keeps working for hang-up and metrics. */
  Call.prototype.connectWebRtcFirst = async function (credential) {
    try {
      await this.connect("webrtc", credential);
    } catch (error) {
      if (this.ending) return;
      if (error.webrtcUnavailable) return this.connect("socket", credential);
      if (error.notConnected) return this.connect("socket", { call_token: this.callToken });
      throw error;
    }
  };

  /* The call over a new transport of kind, with credential ({ticket}, {call_token} or {resume}); resolves once it
   * carries the call. A transport that fails is closed; the call token it got is kept. */
  Call.prototype.connect = async function (kind, credential) {
    var clock = this.env.clock, began = clock.now();
    var transport = this.transport = this.newTransport(kind);
    this.view.showTransport(kind);
    transport.mute(this.muted);
    try {
      await (credential.resume ? transport.resume(credential.resume) : transport.start(credential));
    } catch (error) {
      this.callToken = transport.callToken || this.callToken; // a WebRTC call placed but not connected has one
      transport.close();
      throw error;
    }
    this.callToken = transport.callToken;
    if (this.ending) return transport.close(); // hung up while it connected
    if (this.stats.connect_ms == null) this.stats.connect_ms = Math.round(clock.now() - began);
    this.view.say(MESSAGES.connected);
  };

  Call.prototype.newTransport = function (kind) {
    var self = this;
    var base = this.transcript.nextSeq; // this connection's agent turns go below those already shown
    var transport = new TRANSPORTS[kind](this.env, { mic: this.mic, audio: this.audio, stats: this.stats }, {
      onEvent: function (message) { self.onEvent(message, base); },
      onRemoteAudio: function (remote) { self.onRemoteAudio(remote); },
      onLost: function () { if (transport === self.transport && !self.ending) self.reconnect(); },
      onBack: function () { if (transport === self.lost && self.lostBack) self.lostBack(); },
    });
    return transport;
  };

  Call.prototype.onEvent = function (message, base) {
    if (message.type === "transcript") {
      this.view.showLine(this.transcript.line(message, base));
    } else if (message.type === "agent_state" && STATES[message.state]) {
      if (!this.ending && !this.reconnecting) this.view.say(this.muted ? MESSAGES.muted : STATES[message.state]);
    } else if (message.type === "ended") {
      this.hangUp(null, MESSAGES.endedByAgent);
    }
  };

  /* The agent's audio: played, and with the caller's, shown by the level ring. */
  Call.prototype.onRemoteAudio = function (remote) {
    if (this.ending) return;
    if (remote.element) this.view.useAudioElement(remote.element);
    else if (remote.stream) this.view.playStream(remote.stream);
    var audio = this.audio, view = this.view;
    if (!audio.context()) return;
    var agent = remote.node || audio.source(remote.stream);
    audio.watchLevel([agent, audio.source(this.mic)], function (level) { view.showLevel(level); });
  };

  /* The call's media dropped without it having ended (its voice sidecar died): resume the same call, over the same
   * kind of connection, on another sidecar: RESUME_DELAYS_MS tries at most, with backoff, while the server keeps
   * the call open. The transcript stays; the agent says they got cut off and asks again. A WebRTC connection only
   * briefly lost may come back by itself meanwhile (the app refuses to resume a call its sidecar still runs): then
   * it simply carries on. A final refusal (the call has ended, the token is not valid) or no sidecar within the
   * tries ends the call with the reason. */
  Call.prototype.reconnect = async function () {
    if (this.ending || this.reconnecting) return;
    var self = this, clock = this.env.clock;
    this.reconnecting = true;
    this.stats.reconnects = (this.stats.reconnects || 0) + 1;
    this.view.showReconnecting(true);
    this.view.say(MESSAGES.reconnecting);
    var lost = this.lost = this.transport; // kept open, apart, in case it comes back
    this.transport = null;
    var back = new Promise(function (resolve) { self.lostBack = resolve; });
    var failure = null, recovered = false;
    for (var i = 0; i < RESUME_DELAYS_MS.length && !this.ending; i++) {
      await Promise.race([clock.sleep(RESUME_DELAYS_MS[i]), back]);
      if (this.ending) break;
      if (lost.isConnected()) { recovered = true; break; }
      try {
        await this.resumeOnce(lost.kind);
        failure = null;
        break;
      } catch (error) {
        failure = error;
        if (error.retry === false) break;
      }
    }
    this.lost = this.lostBack = null;
    if (recovered && !this.ending) {
      this.transport = lost;
      this.view.showTransport(lost.kind);
      this.view.say(MESSAGES.connected);
      failure = null;
    } else {
      lost.close();
    }
    this.reconnecting = false;
    this.view.showReconnecting(false);
    if (failure && !this.ending) {
      this.hangUp("connection_failed", (failure.retry === false && failure.userMessage) || MESSAGES.reconnectFailed,
                  true);
    }
  };

  /* One try: a new connection that resumes the call; settled once it carries it, throws otherwise. */
  Call.prototype.resumeOnce = function (kind) {
    var credential = { resume: this.callToken };
    return kind === "socket" ? this.connect("socket", credential) : this.connectWebRtcFirst(credential);
  };

  Call.prototype.toggleMute = function () {
    this.muted = !this.muted;
    if (this.transport) this.transport.mute(this.muted);
    else setTracksEnabled(this.mic, !this.muted);
    this.view.showMuted(this.muted);
  };

  /* reason: the caller's (sent to the sidecar and the app), or null when the call ended on the other side. */
  Call.prototype.hangUp = async function (reason, message, failed) {
    if (this.ending) return;
    this.ending = true;
    var transport = this.transport;
    if (transport && reason) transport.hangUp(reason);
    if (transport) await transport.readStats().catch(noop);
    this.stats.duration_s = Math.round((this.env.clock.now() - this.startedAt) / 1000);
    if (this.currentToken()) {
      var token = this.currentToken(), fetch = this.env.fetch;
      if (reason) postJson(fetch, "/api/public/calls/hangup", { call_token: token }).catch(noop);
      postJson(fetch, "/api/public/calls/metrics", { call_token: token, metrics: this.stats }).catch(noop);
    }
    this.finish(message || MESSAGES.hungUp, failed);
  };

  Call.prototype.currentToken = function () {
    return (this.transport && this.transport.callToken) || this.callToken;
  };

  Call.prototype.finish = function (message, failed) {
    this.ending = this.ended = true;
    [this.transport, this.lost].forEach(function (transport) { if (transport) transport.close(); });
    (this.mic ? this.mic.getTracks() : []).forEach(function (track) { track.stop(); });
    this.audio.close();
    this.view.showEnded(message, failed);
  };

  function waitFor(env, id, timeoutMs) {
    return new Promise(function (resolve, reject) {
      var until = env.clock.now() + timeoutMs;
      (function look() {
        var node = env.document.getElementById(id);
        if (node) return resolve(node);
        if (env.clock.now() > until) return reject(new Error("missing #" + id));
        env.clock.frame(look);
      })();
    });
  }

  /* ---- Browser entry ----------------------------------------------------------------------------------- */

  /* The browser's own objects, as everything above takes them. */
  function browserEnv(win) {
    return {
      document: win.document,
      location: win.location,
      fetch: function (url, init) { return win.fetch(url, init); },
      getUserMedia: function (constraints) { return win.navigator.mediaDevices.getUserMedia(constraints); },
      RTCPeerConnection: win.RTCPeerConnection,
      WebSocket: win.WebSocket,
      MediaStream: win.MediaStream,
      AudioContext: win.AudioContext || win.webkitAudioContext,
      AudioWorkletNode: win.AudioWorkletNode,
      Blob: win.Blob,
      URL: win.URL,
      loadLiveKit: function () {
        return loadScript(win.document, LIVEKIT_SCRIPT).then(function () { return win.LivekitClient; });
      },
      clock: {
        now: function () { return win.performance.now(); },
        sleep: function (ms) { return new Promise(function (resolve) { win.setTimeout(resolve, ms); }); },
        setTimeout: function (fn, ms) { return win.setTimeout(fn, ms); },
        clearTimeout: function (id) { win.clearTimeout(id); },
        setInterval: function (fn, ms) { return win.setInterval(fn, ms); },
        clearInterval: function (id) { win.clearInterval(id); },
        frame: function (fn) { return win.requestAnimationFrame(fn); },
      },
    };
  }

  function loadScript(document, src) {
    return new Promise(function (resolve, reject) {
      if (document.querySelector('script[src="' + src + '"]')) return resolve();
      var script = document.createElement("script");
      script.src = src;
      script.onload = resolve;
      script.onerror = function () { reject(userError(MESSAGES.missingPart)); };
      document.head.appendChild(script);
    });
  }

  if (typeof window !== "undefined" && window.document) {
    var env = browserEnv(window);
    window.QVCall = {
      current: null,
      start: function (options) {
        var current = window.QVCall.current;
        if (current && !current.ending) current.hangUp("caller_hung_up");
        var call = window.QVCall.current = new Call(env, options);
        call.start();
        return call;
      },
    };
    window.addEventListener("pagehide", function () {
      var call = window.QVCall.current;
      if (call && !call.ending) call.hangUp("caller_left_page");
    });
  }

  if (typeof module !== "undefined" && module.exports) {
    module.exports = {
      Call: Call, CallView: CallView, CallAudio: CallAudio, Transcript: Transcript, PcmPlayer: PcmPlayer,
      WebRtcTransport: WebRtcTransport, SocketTransport: SocketTransport, LiveKitTransport: LiveKitTransport,
      pcmFramer: pcmFramer, resumable: resumable, socketUrl: socketUrl, MESSAGES: MESSAGES,
      settings: { CONNECT_TIMEOUT_MS: CONNECT_TIMEOUT_MS, RESUME_AFTER_MS: RESUME_AFTER_MS,
                  RESUME_DELAYS_MS: RESUME_DELAYS_MS, PCM_RATE: PCM_RATE, FRAME_SAMPLES: FRAME_SAMPLES },
    };
  }
})();
