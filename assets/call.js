/* The in-browser call of the public call page (/call/{slug}).
 *
 * window.QVCall.start({ticket, color, rootId, rawAudio}) draws the call inside #rootId and runs it:
 * microphone → two rings → WebRTC to a voice sidecar (the offer goes to POST /api/public/calls with the ticket
 * from the email gate) → live transcript from the "events" data channel, an audio level ring, mute and hang-up.
 * Caller-side metrics (connection time, round trip, jitter, packet loss, audio drops) go to
 * POST /api/public/calls/metrics when the call ends.
 */
(function () {
  "use strict";

  var STATES = { listening: "Listening…", thinking: "Thinking…", speaking: "Speaking" };

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (key) {
      if (key === "style") Object.assign(node.style, attrs.style);
      else if (key === "text") node.textContent = attrs.text;
      else node.setAttribute(key, attrs[key]);
    });
    (children || []).forEach(function (child) { node.appendChild(child); });
    return node;
  }

  function waitFor(id, timeoutMs) {
    return new Promise(function (resolve, reject) {
      var until = Date.now() + timeoutMs;
      (function look() {
        var node = document.getElementById(id);
        if (node) return resolve(node);
        if (Date.now() > until) return reject(new Error("missing #" + id));
        requestAnimationFrame(look);
      })();
    });
  }

  function Call(options) {
    this.options = options;
    this.color = options.color || "#6E56CF";
    this.ended = false;
    this.muted = false;
    this.stats = {};
  }

  Call.prototype.draw = function (root) {
    var c = this.color;
    this.ring = el("div", { id: "qv-level", "aria-hidden": "true", style: {
      width: "120px", height: "120px", borderRadius: "50%", margin: "8px auto", background: c, opacity: "0.9",
      transition: "transform 80ms linear", boxShadow: "0 0 0 12px " + c + "33" } });
    this.status = el("p", { id: "qv-status", role: "status", "aria-live": "polite", text: "Getting your microphone…",
      style: { textAlign: "center", fontSize: "20px", fontWeight: "600", margin: "4px 0" } });
    this.transcript = el("div", { id: "qv-transcript", "aria-live": "polite", "aria-label": "Live transcript",
      style: { display: "flex", flexDirection: "column", gap: "8px", maxHeight: "45vh", overflowY: "auto",
               padding: "8px 0", fontSize: "17px", lineHeight: "1.4" } });
    this.muteButton = el("button", { id: "qv-mute", type: "button", "aria-pressed": "false", text: "Mute",
      style: buttonStyle("var(--gray-a4)", "var(--gray-12)") });
    this.hangupButton = el("button", { id: "qv-hangup", type: "button", text: "Hang up",
      style: buttonStyle("var(--red-9)", "white") });
    var controls = el("div", { style: { display: "flex", gap: "12px", marginTop: "8px" } },
                      [this.muteButton, this.hangupButton]);
    this.audio = el("audio", { id: "qv-remote-audio", autoplay: "" });
    root.innerHTML = "";
    [this.ring, this.status, this.transcript, controls, this.audio].forEach(function (n) { root.appendChild(n); });
    var self = this;
    this.muteButton.addEventListener("click", function () { self.toggleMute(); });
    this.hangupButton.addEventListener("click", function () { self.hangUp("caller_hung_up"); });
  };

  function buttonStyle(background, color) {
    return { flex: "1", minHeight: "56px", borderRadius: "999px", border: "none", fontSize: "18px",
             fontWeight: "600", background: background, color: color, cursor: "pointer" };
  }

  Call.prototype.say = function (text) { this.status.textContent = text; };

  Call.prototype.bubble = function (speaker, text, seq, interrupted) {
    var id = speaker === "agent" && seq != null ? "qv-agent-" + seq : null;
    var node = id ? document.getElementById(id) : null;
    if (!node) {
      var mine = speaker === "caller";
      node = el("div", { "class": "qv-turn qv-" + speaker, "data-speaker": speaker, style: {
        alignSelf: mine ? "flex-end" : "flex-start", maxWidth: "85%", padding: "10px 14px", borderRadius: "16px",
        background: mine ? this.color : "var(--gray-a3)", color: mine ? "white" : "var(--gray-12)" } });
      if (id) node.id = id;
      this.transcript.appendChild(node);
    }
    node.textContent = text + (interrupted ? " …" : "");
    this.transcript.scrollTop = this.transcript.scrollHeight;
  };

  Call.prototype.start = async function () {
    var root = await waitFor(this.options.rootId || "qv-call-root", 5000);
    this.draw(root);
    var raw = !!this.options.rawAudio;
    try {
      this.mic = await navigator.mediaDevices.getUserMedia({ audio: {
        echoCancellation: !raw, noiseSuppression: !raw, autoGainControl: !raw } });
    } catch (error) {
      var denied = error && (error.name === "NotAllowedError" || error.name === "SecurityError");
      return this.finish(denied
        ? "Microphone access is blocked. Allow the microphone for this site (the icon in the address bar), then start a new call."
        : "We couldn't find a microphone. Plug one in or try another device, then start a new call.", true);
    }
    this.say("Ringing…");
    await this.rings(2);
    if (this.ended) return;
    this.say("Connecting…");
    try {
      await this.connect();
    } catch (error) {
      this.finish(error.userMessage || "We couldn't connect the call. Check your connection and try again.", true);
    }
  };

  Call.prototype.rings = async function (count) {
    var Ctx = window.AudioContext || window.webkitAudioContext;
    if (!Ctx) return;
    this.context = this.context || new Ctx();
    var ctx = this.context;
    for (var i = 0; i < count && !this.ended; i++) {
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
      await sleep(1100);
      tones.forEach(function (osc) { osc.stop(); });
      await sleep(700);
    }
  };

  Call.prototype.connect = async function () {
    var self = this;
    var began = performance.now();
    var pc = this.pc = new RTCPeerConnection({ iceServers: [] });
    this.events = pc.createDataChannel("events");
    this.events.onmessage = function (ev) { self.onEvent(JSON.parse(ev.data)); };
    this.mic.getTracks().forEach(function (track) { pc.addTrack(track, self.mic); });
    pc.ontrack = function (ev) {
      var stream = ev.streams && ev.streams[0] ? ev.streams[0] : new MediaStream([ev.track]);
      self.audio.srcObject = stream;
      var played = self.audio.play();
      if (played && played.catch) played.catch(function () {});
      self.watchLevel(stream);
    };
    pc.onconnectionstatechange = function () {
      if (pc.connectionState === "connected" && self.stats.connect_ms == null) {
        self.stats.connect_ms = Math.round(performance.now() - began);
        self.say("Connected");
        self.statsTimer = setInterval(function () { self.readStats(); }, 3000);
      } else if (pc.connectionState === "failed") {
        self.hangUp("connection_failed", "The connection dropped. Please start a new call.");
      }
    };
    await pc.setLocalDescription(await pc.createOffer());
    await gathered(pc, 3000);
    var response = await fetch("/api/public/calls", { method: "POST", headers: { "content-type": "application/json" },
      body: JSON.stringify({ ticket: this.options.ticket, sdp: pc.localDescription.sdp, type: "offer" }) });
    var body = await response.json().catch(function () { return {}; });
    if (!response.ok) {
      var message = body.error && body.error.message;
      var error = new Error(message || "call refused");
      error.userMessage = response.status === 503
        ? (message || "Our assistant is busy right now.") + " Please try again in a minute."
        : message;
      throw error;
    }
    this.callToken = body.call_token;
    await pc.setRemoteDescription({ type: "answer", sdp: body.sdp });
  };

  Call.prototype.onEvent = function (event) {
    if (event.type === "transcript") {
      this.bubble(event.speaker, event.text, event.seq, event.interrupted);
    } else if (event.type === "agent_state" && STATES[event.state]) {
      if (!this.ended) this.say(this.muted ? "Muted" : STATES[event.state]);
    } else if (event.type === "ended") {
      this.hangUp(null, "The call has ended. Thanks for calling!");
    }
  };

  Call.prototype.toggleMute = function () {
    this.muted = !this.muted;
    (this.mic ? this.mic.getAudioTracks() : []).forEach(function (t) { t.enabled = !this.muted; }, this);
    this.muteButton.textContent = this.muted ? "Unmute" : "Mute";
    this.muteButton.setAttribute("aria-pressed", String(this.muted));
    this.say(this.muted ? "Muted" : "Listening…");
  };

  Call.prototype.watchLevel = function (remote) {
    var Ctx = window.AudioContext || window.webkitAudioContext;
    if (!Ctx) return;
    this.context = this.context || new Ctx();
    var ctx = this.context, self = this;
    var analysers = [remote, this.mic].filter(Boolean).map(function (stream) {
      var analyser = ctx.createAnalyser();
      analyser.fftSize = 512;
      ctx.createMediaStreamSource(stream).connect(analyser);
      return analyser;
    });
    var samples = new Uint8Array(512);
    (function draw() {
      if (self.ended) return;
      var level = 0;
      analysers.forEach(function (analyser) {
        analyser.getByteTimeDomainData(samples);
        for (var i = 0; i < samples.length; i++) level = Math.max(level, Math.abs(samples[i] - 128) / 128);
      });
      self.ring.style.transform = "scale(" + (1 + Math.min(level * 1.5, 0.6)).toFixed(3) + ")";
      self.ring.setAttribute("data-level", level.toFixed(3));
      requestAnimationFrame(draw);
    })();
  };

  Call.prototype.readStats = async function () {
    if (!this.pc) return;
    var stats = this.stats;
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

  Call.prototype.hangUp = async function (reason, message) {
    if (this.ended) return;
    if (reason && this.events && this.events.readyState === "open") {
      try { this.events.send(JSON.stringify({ type: "hangup", reason: reason })); } catch (e) { /* closing anyway */ }
    }
    await this.readStats().catch(function () {});
    this.stats.duration_s = this.startedAt ? Math.round((Date.now() - this.startedAt) / 1000) : undefined;
    if (this.callToken) {
      var token = this.callToken;
      if (reason) post("/api/public/calls/hangup", { call_token: token });
      post("/api/public/calls/metrics", { call_token: token, metrics: this.stats });
    }
    this.finish(message || "Call ended. Thanks for calling!");
  };

  Call.prototype.finish = function (message, failed) {
    this.ended = true;
    clearInterval(this.statsTimer);
    if (this.pc) { try { this.pc.close(); } catch (e) { /* already closed */ } }
    (this.mic ? this.mic.getTracks() : []).forEach(function (t) { t.stop(); });
    if (this.context) this.context.close().catch(function () {});
    this.say(message);
    if (failed) this.status.setAttribute("data-failed", "true");
    this.status.setAttribute("data-ended", "true");
    this.muteButton.disabled = this.hangupButton.disabled = true;
    this.ring.style.transform = "scale(1)";
    this.ring.style.opacity = "0.3";
    var again = document.querySelector(".qv-call-again");
    if (again) again.style.display = "inline-flex";
  };

  function post(url, body) {
    return fetch(url, { method: "POST", keepalive: true, headers: { "content-type": "application/json" },
                        body: JSON.stringify(body) }).catch(function () {});
  }

  function gathered(pc, timeoutMs) {
    if (pc.iceGatheringState === "complete") return Promise.resolve();
    return new Promise(function (resolve) {
      var timer = setTimeout(resolve, timeoutMs);
      pc.addEventListener("icegatheringstatechange", function () {
        if (pc.iceGatheringState === "complete") { clearTimeout(timer); resolve(); }
      });
    });
  }

  function sleep(ms) { return new Promise(function (resolve) { setTimeout(resolve, ms); }); }

  window.QVCall = {
    current: null,
    start: function (options) {
      if (window.QVCall.current && !window.QVCall.current.ended) window.QVCall.current.hangUp("caller_hung_up");
      var call = window.QVCall.current = new Call(options);
      call.startedAt = Date.now();
      call.start();
      return call;
    },
  };
  window.addEventListener("pagehide", function () {
    var call = window.QVCall.current;
    if (call && !call.ended) call.hangUp("caller_left_page");
  });
})();
