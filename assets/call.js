/* The in-browser call of the public call page (/call/{slug}).
 *
 * window.QVCall.start({ticket, color, rootId, rawAudio}) draws the call inside #rootId and runs it:
 * microphone → two rings → WebRTC to a voice sidecar (the offer goes to POST /api/public/calls with the ticket
 * from the email gate) → live transcript from the "events" data channel, an audio level ring, mute and hang-up.
 * When WebRTC cannot connect, the same call goes as 16 kHz PCM over a WebSocket on this origin
 * (/api/public/calls/socket; the app relays it to the sidecar): see Call.prototype.connect. ?transport=socket
 * goes straight to the socket (for networks known to block UDP, and for tests).
 * When the media connection drops without the call having ended (its voice sidecar died: WebRTC disconnected or
 * failed for RESUME_AFTER_MS, or the socket closed without an "ended" event), the page says "Reconnecting…" and
 * resumes the same call on another sidecar with its call token (POST /api/public/calls/resume, or the socket with
 * ?resume=), a few times with backoff within the server's grace period; the transcript carries on. See
 * Call.prototype.reconnect.
 * Caller-side metrics (connection time, round trip, jitter, packet loss, audio drops, reconnects) go to
 * POST /api/public/calls/metrics when the call ends.
 */
(function () {
  "use strict";

  var STATES = { listening: "Listening…", thinking: "Thinking…", speaking: "Speaking" };
  var CONNECT_TIMEOUT_MS = 8000; // WebRTC not "connected" by then: UDP is blocked, or a NAT needs a TURN server
  var PCM_RATE = 16000; // the socket's audio, both ways: 16 kHz mono s16le
  var FRAME_SAMPLES = 320; // 20 ms of it per message
  var JITTER_SECONDS = 0.1; // how far ahead of the clock the agent's audio is scheduled
  var MAX_BUFFERED_BYTES = 64000; // the socket is this far behind (2 s of microphone): drop rather than lag
  var NO_CALLS = "This browser can't make calls. Try an up-to-date Chrome, Safari or Firefox.";
  var RESUME_AFTER_MS = 2000; // a WebRTC connection disconnected (or failed) this long has lost its sidecar
  // waits before each try to resume a dropped call: ~45 s in all, inside the server's CALL_RESUME_GRACE_SECONDS (60)
  var RESUME_DELAYS_MS = [0, 2000, 4000, 6000, 8000, 10000, 15000];
  var RECONNECT_FAILED = "We couldn't reconnect your call. Press Call to start again.";
  // The microphone's samples, off the audio thread, as they come (128 at a time).
  var CAPTURE_WORKLET = "class QVCapture extends AudioWorkletProcessor {\n" +
    "  process(inputs) { var input = inputs[0]; if (input && input[0]) this.port.postMessage(input[0].slice(0));" +
    " return true; }\n}\nregisterProcessor('qv-capture', QVCapture);\n";

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
    this.seqBase = 0; // agent turns are numbered per connection: a resumed call's follow those already shown
    this.nextSeq = 0;
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
    // an agent turn (seq) or a LiveKit transcription segment ("lk-…", either side) is updated in place
    if (typeof seq === "number") {
      seq += this.seqBase;
      this.nextSeq = Math.max(this.nextSeq, seq + 1);
    }
    var id = seq != null && (speaker === "agent" || typeof seq === "string") ? "qv-" + speaker + "-" + seq : null;
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
    var ctx = this.audioContext();
    if (!ctx) return;
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

  // WebRTC first: media peer to peer, with the browser's own jitter buffer and echo cancellation. When it cannot
  // connect, the call goes as PCM over a WebSocket on this origin instead — the same call, not a second one: the
  // gate's ticket works once and its consent belongs to one call.
  // - Known before the call is placed (no RTCPeerConnection, ?transport=socket, the offer cannot even be made, or
  //   POST /api/public/calls answers webrtc_unavailable, which leaves the ticket unused): the socket opens with the
  //   ticket.
  // - Found out after (not "connected" within CONNECT_TIMEOUT_MS, or failed before connecting): the page closes its
  //   peer connection and opens the socket with the call token of that WebRTC call; the sidecar moves the call,
  //   its greeting not spoken yet, onto the socket. One conversation, one consent ticket, and the call token keeps
  //   working for hang-up and metrics.
  Call.prototype.connect = async function () {
    if (this.options.media === "livekit") return this.connectLiveKit();
    if (socketOnly() || !window.RTCPeerConnection) return this.connectSocket({ ticket: this.options.ticket });
    var connected;
    try {
      connected = await this.connectWebRTC();
    } catch (error) {
      if (!error.webrtcUnavailable) throw error;
      this.closePeer();
      return this.connectSocket({ ticket: this.options.ticket });
    }
    if (!connected && !this.ended) {
      this.closePeer();
      return this.connectSocket({ call_token: this.callToken });
    }
  };

  /* Resolves true once connected, false when not connected within CONNECT_TIMEOUT_MS (or failed first); throws an
   * error with webrtcUnavailable when the ticket was not used, so the socket can have it. With resume, the offer
   * goes with the call token to POST /api/public/calls/resume instead (the call's sidecar died). */
  Call.prototype.connectWebRTC = async function (resume) {
    var self = this;
    var began = performance.now();
    this.setTransport("webrtc");
    var pc, settled, lost;
    var connected = new Promise(function (resolve) { settled = resolve; });
    try {
      pc = this.pc = new RTCPeerConnection({ iceServers: [] });
      this.events = pc.createDataChannel("events");
      this.events.onmessage = function (ev) { self.onEvent(JSON.parse(ev.data)); };
      this.mic.getTracks().forEach(function (track) { pc.addTrack(track, self.mic); });
      pc.ontrack = function (ev) {
        var stream = ev.streams && ev.streams[0] ? ev.streams[0] : new MediaStream([ev.track]);
        self.audio.srcObject = stream;
        var played = self.audio.play();
        if (played && played.catch) played.catch(function () {});
        var ctx = self.audioContext();
        if (ctx) self.watchLevel([ctx.createMediaStreamSource(stream), ctx.createMediaStreamSource(self.mic)]);
      };
      var up = false;
      pc.onconnectionstatechange = function () {
        var state = pc.connectionState;
        if (state === "connected") {
          clearTimeout(lost);
          if (self.lost && self.lost.pc === pc) self.lost.back(); // back by itself while resuming
          if (up) return; // back by itself after a short drop
          up = true;
          if (self.stats.connect_ms == null) self.stats.connect_ms = Math.round(performance.now() - began);
          self.say("Connected");
          clearInterval(self.statsTimer);
          self.statsTimer = setInterval(function () { self.readStats(); }, 3000);
          settled(true);
        } else if (!up) {
          if (state === "failed") settled(false);
        } else if (state === "failed" || state === "disconnected") {
          // no "ended" came: the sidecar may be gone. Give the connection a moment to come back, then resume
          clearTimeout(lost);
          lost = setTimeout(function () {
            if (pc === self.pc && pc.connectionState !== "connected") self.reconnect();
          }, state === "failed" ? 0 : RESUME_AFTER_MS);
        }
      };
      await pc.setLocalDescription(await pc.createOffer());
      await gathered(pc, 3000);
    } catch (error) {
      throw webrtcUnavailable(error);
    }
    var response = await fetch(resume ? "/api/public/calls/resume" : "/api/public/calls", { method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(resume ? { call_token: this.callToken, sdp: pc.localDescription.sdp, type: "offer" }
                                  : { ticket: this.options.ticket, sdp: pc.localDescription.sdp, type: "offer" }) });
    var body = await response.json().catch(function () { return {}; });
    if (!response.ok) {
      var code = body.error && body.error.code, message = body.error && body.error.message;
      if (code === "webrtc_unavailable") throw webrtcUnavailable(new Error(message));
      var error = new Error(message || "call refused");
      error.userMessage = response.status === 503 && !resume
        ? (message || "Our assistant is busy right now. Please try again in a minute.")
        : message;
      error.retry = resumable(response.status, code);
      throw error;
    }
    this.callToken = body.call_token;
    await pc.setRemoteDescription({ type: "answer", sdp: body.sdp });
    return Promise.race([connected, sleep(CONNECT_TIMEOUT_MS).then(function () { return false; })]);
  };

  Call.prototype.closePeer = function () {
    if (!this.pc) return;
    this.pc.onconnectionstatechange = this.pc.ontrack = null;
    if (this.events) this.events.onmessage = null;
    try { this.pc.close(); } catch (e) { /* already closed */ }
    this.pc = this.events = null;
  };

  /* The call's media dropped without it having ended (its voice sidecar died): resume the same call, over the same
   * kind of connection, on another sidecar — a few tries with backoff while the server keeps the call open. The
   * transcript stays; the agent says they got cut off and asks again. A WebRTC connection that was only briefly
   * lost may come back by itself meanwhile (the app refuses to resume a call its sidecar still runs): then it
   * simply carries on. A final refusal (the call has ended, the token is not valid) or no sidecar within the tries
   * ends the call with the reason. */
  Call.prototype.reconnect = async function () {
    if (this.ended || this.reconnecting) return;
    this.reconnecting = true;
    this.stats.reconnects = (this.stats.reconnects || 0) + 1;
    this.status.setAttribute("data-reconnecting", "true");
    this.say("Reconnecting…");
    var lost = this.transport === "webrtc" && this.pc ? { pc: this.pc, events: this.events, seqBase: this.seqBase }
      : null;
    var back = null;
    if (lost) {
      this.lost = lost;
      this.pc = this.events = null; // kept open, apart, in case it comes back
      back = new Promise(function (resolve) { lost.back = resolve; });
    }
    var failure = null, recovered = false;
    for (var i = 0; i < RESUME_DELAYS_MS.length && !this.ended; i++) {
      await Promise.race(back ? [sleep(RESUME_DELAYS_MS[i]), back] : [sleep(RESUME_DELAYS_MS[i])]);
      if (this.ended) break;
      if (lost && lost.pc.connectionState === "connected") { recovered = true; break; }
      try {
        await this.resumeOnce();
        failure = null;
        break;
      } catch (error) {
        failure = error;
        if (error.retry === false) break;
      }
    }
    this.lost = null;
    if (recovered) {
      this.closePeer();
      this.pc = lost.pc;
      this.events = lost.events;
      this.seqBase = lost.seqBase;
      this.setTransport("webrtc");
      this.say("Connected");
      failure = null;
    } else if (lost) {
      lost.pc.onconnectionstatechange = lost.pc.ontrack = null;
      if (lost.events) lost.events.onmessage = null;
      try { lost.pc.close(); } catch (e) { /* already closed */ }
    }
    this.reconnecting = false;
    this.status.removeAttribute("data-reconnecting");
    if (failure && !this.ended) {
      this.hangUp("connection_failed", (failure.retry === false && failure.userMessage) || RECONNECT_FAILED, true);
    }
  };

  /* One try: a new connection that resumes the call, settled once it carries it; throws (retry false: final)
   * otherwise. */
  Call.prototype.resumeOnce = async function () {
    this.seqBase = this.nextSeq;
    var token = this.callToken;
    if (this.transport === "socket") {
      this.closeSocket();
      return this.connectSocket({ resume: token });
    }
    var connected;
    try {
      connected = await this.connectWebRTC(true);
    } catch (error) {
      this.closePeer();
      if (!error.webrtcUnavailable) throw error;
      return this.connectSocket({ resume: token });
    }
    if (!connected && !this.ended) { // resumed, but WebRTC does not connect any more: the socket takes the call over
      this.closePeer();
      return this.connectSocket({ call_token: this.callToken });
    }
  };

  Call.prototype.closeSocket = function () {
    if (!this.socket) return;
    this.socket.onclose = this.socket.onmessage = null;
    try { this.socket.close(1000); } catch (e) { /* already closed */ }
    this.socket = null;
  };

  /* The call over /api/public/calls/socket, with {ticket}, {call_token} (a WebRTC call that did not connect) or
   * {resume} (the call token of a call that dropped): resolves once the call has started. */
  Call.prototype.connectSocket = async function (credential) {
    var self = this;
    var began = performance.now();
    this.setTransport("socket");
    var ctx = this.audioContext();
    if (!ctx || !window.WebSocket) { var none = userError(NO_CALLS); none.retry = false; throw none; }
    if (ctx.state === "suspended") await ctx.resume().catch(function () {});
    var query = credential.ticket ? "ticket=" + encodeURIComponent(credential.ticket)
      : credential.resume ? "resume=" + encodeURIComponent(credential.resume)
      : "call_token=" + encodeURIComponent(credential.call_token);
    var socket = this.socket = new WebSocket((location.protocol === "https:" ? "wss://" : "ws://") + location.host +
                                             "/api/public/calls/socket?" + query);
    socket.binaryType = "arraybuffer";
    var player = this.player = new PcmPlayer(ctx, this.stats);
    var started = false;
    await new Promise(function (resolve, reject) {
      socket.onmessage = function (ev) {
        if (typeof ev.data !== "string") return player.play(new Int16Array(ev.data));
        var event = JSON.parse(ev.data);
        if (event.type === "started") {
          started = true;
          self.callToken = event.call_token;
          self.stats.connect_ms = Math.round(performance.now() - began);
          self.say("Connected");
          resolve();
        } else if (event.type === "error") {
          var refused = userError(event.message);
          refused.retry = resumable(event.status, event.code);
          reject(refused);
        } else {
          self.onEvent(event);
        }
      };
      socket.onclose = function () {
        if (!started) {
          var closed = userError("We couldn't connect the call. Check your connection and try again.");
          closed.retry = true;
          reject(closed);
        } else if (!self.ended && socket === self.socket) {
          self.reconnect(); // closed without an "ended" event: the sidecar (or the way to it) is gone
        }
      };
    });
    if (this.ended) return; // hung up while connecting
    await this.capture(socket);
    this.watchLevel([player.output, ctx.createMediaStreamSource(this.mic)]);
  };

  /* The microphone into the socket: 16 kHz Int16 frames of 20 ms, from an AudioWorklet (or a ScriptProcessor where
   * there is none). */
  Call.prototype.capture = async function (socket) {
    var ctx = this.context;
    if (this.captureNode) { this.captureNode.disconnect(); this.captureNode = null; } // a resumed call's new socket
    var source = ctx.createMediaStreamSource(this.mic);
    var silent = ctx.createGain(); // the capture node must reach the destination to be run; it adds nothing
    silent.gain.value = 0;
    silent.connect(ctx.destination);
    var framer = pcmFramer(ctx.sampleRate, function (frame) {
      if (socket.readyState === WebSocket.OPEN && socket.bufferedAmount < MAX_BUFFERED_BYTES) socket.send(frame);
    });
    var node = null;
    if (ctx.audioWorklet && window.AudioWorkletNode) {
      var url = URL.createObjectURL(new Blob([CAPTURE_WORKLET], { type: "application/javascript" }));
      try {
        if (!this.workletAdded) await ctx.audioWorklet.addModule(url); // once per context: a name registers once
        this.workletAdded = true;
        node = new AudioWorkletNode(ctx, "qv-capture");
        node.port.onmessage = function (ev) { framer(ev.data); };
      } catch (e) {
        node = null; // the module was refused (an older browser): the older node below does the same
      } finally {
        URL.revokeObjectURL(url);
      }
    }
    if (!node) {
      node = ctx.createScriptProcessor(2048, 1, 1);
      node.onaudioprocess = function (ev) { framer(ev.inputBuffer.getChannelData(0)); };
    }
    source.connect(node);
    node.connect(silent); // closing the context at the end stops it
    this.captureNode = node;
  };

  /* A message to the sidecar over whichever carries the call's events (the data channel, or the socket). */
  Call.prototype.sendEvent = function (message) {
    var open = this.transport === "socket" ? this.socket && this.socket.readyState === WebSocket.OPEN
      : this.events && this.events.readyState === "open";
    if (!open) return;
    try { (this.transport === "socket" ? this.socket : this.events).send(JSON.stringify(message)); }
    catch (e) { /* closing anyway */ }
  };

  Call.prototype.setTransport = function (transport) {
    this.transport = transport;
    this.status.setAttribute("data-transport", transport);
  };

  Call.prototype.audioContext = function () {
    var Ctx = window.AudioContext || window.webkitAudioContext;
    if (!Ctx) return null;
    this.context = this.context || new Ctx();
    return this.context;
  };

  Call.prototype.onEvent = function (event) {
    if (event.type === "transcript") {
      this.bubble(event.speaker, event.text, event.seq, event.interrupted);
    } else if (event.type === "agent_state" && STATES[event.state]) {
      if (!this.ended && !this.reconnecting) this.say(this.muted ? "Muted" : STATES[event.state]);
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

  /* The ring follows the louder of the agent and the caller (nodes: their audio in this.context). */
  Call.prototype.watchLevel = function (nodes) {
    var ctx = this.context, self = this;
    var watching = this.watching = {}; // a resumed call watches its new audio; the older loop stops
    var analysers = nodes.map(function (node) {
      var analyser = ctx.createAnalyser();
      analyser.fftSize = 512;
      node.connect(analyser);
      return analyser;
    });
    var samples = new Uint8Array(512);
    (function draw() {
      if (self.ended || self.watching !== watching) return;
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

  /* LiveKit mode (the app has a LiveKit server): join the call's room with livekit-client; the voice worker is
   * dispatched into it. Its transcriptions arrive as "lk.transcription" text streams and its state as the
   * participant attribute "lk.agent.state" (livekit-agents' room I/O). */
  Call.prototype.connectLiveKit = async function () {
    var self = this;
    var began = performance.now();
    this.setTransport("livekit");
    await loadScript("/vendor/livekit-client.umd.js");
    var LK = window.LivekitClient;
    var response = await fetch("/api/public/calls/livekit", { method: "POST",
      headers: { "content-type": "application/json" }, body: JSON.stringify({ ticket: this.options.ticket }) });
    var body = await response.json().catch(function () { return {}; });
    if (!response.ok) {
      var error = new Error("join refused");
      error.userMessage = (body.error && body.error.message) || "Our assistant is busy right now. Please try again in a minute.";
      throw error;
    }
    this.callToken = body.call_token;
    var room = this.room = new LK.Room();
    room.on(LK.RoomEvent.TrackSubscribed, function (track) {
      if (track.kind !== "audio") return;
      var element = track.attach();
      element.id = "qv-remote-audio";
      self.audio.replaceWith(element);
      self.audio = element;
      var ctx = self.audioContext();
      if (ctx) self.watchLevel([ctx.createMediaStreamSource(new MediaStream([track.mediaStreamTrack])),
                                ctx.createMediaStreamSource(self.mic)]);
    });
    room.on(LK.RoomEvent.ParticipantAttributesChanged, function (changed, participant) {
      var state = participant && participant.attributes && participant.attributes["lk.agent.state"];
      if (state) self.onEvent({ type: "agent_state", state: state });
    });
    room.on(LK.RoomEvent.Disconnected, function () { self.hangUp(null, "The call has ended. Thanks for calling!"); });
    room.registerTextStreamHandler("lk.transcription", async function (reader, participant) {
      var text = await reader.readAll();
      var attributes = (reader.info && reader.info.attributes) || {};
      var mine = participant && participant.identity === room.localParticipant.identity;
      self.bubble(mine ? "caller" : "agent", text, "lk-" + (attributes["lk.segment_id"] || reader.info.id), false);
    });
    await room.connect(body.url, body.token);
    await room.localParticipant.publishTrack(this.mic.getAudioTracks()[0]);
    this.stats.connect_ms = Math.round(performance.now() - began);
    this.say("Connected");
  };

  Call.prototype.hangUp = async function (reason, message, failed) {
    if (this.ended) return;
    if (reason) this.sendEvent({ type: "hangup", reason: reason });
    await this.readStats().catch(function () {});
    this.stats.duration_s = this.startedAt ? Math.round((Date.now() - this.startedAt) / 1000) : undefined;
    if (this.callToken) {
      var token = this.callToken;
      if (reason) post("/api/public/calls/hangup", { call_token: token });
      post("/api/public/calls/metrics", { call_token: token, metrics: this.stats });
    }
    this.finish(message || "Call ended. Thanks for calling!", failed);
  };

  Call.prototype.finish = function (message, failed) {
    this.ended = true;
    clearInterval(this.statsTimer);
    if (this.pc) { try { this.pc.close(); } catch (e) { /* already closed */ } }
    if (this.room) { var room = this.room; this.room = null; room.disconnect().catch(function () {}); }
    if (this.socket) { this.socket.onclose = null; try { this.socket.close(1000); } catch (e) { /* closed */ } }
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

  function loadScript(src) {
    return new Promise(function (resolve, reject) {
      if (document.querySelector('script[src="' + src + '"]')) return resolve();
      var script = document.createElement("script");
      script.src = src;
      script.onload = resolve;
      script.onerror = function () {
        var error = new Error("could not load " + src);
        error.userMessage = "The call could not start (a part of this page is missing). Please try again later.";
        reject(error);
      };
      document.head.appendChild(script);
    });
  }

  function sleep(ms) { return new Promise(function (resolve) { setTimeout(resolve, ms); }); }

  function socketOnly() { return new URLSearchParams(location.search).get("transport") === "socket"; }

  function userError(message) {
    var error = new Error(message);
    error.userMessage = message;
    return error;
  }

  /* Whether a refused resume may work a little later: no sidecar could take it yet (503), or the call's own
   * sidecar still holds it (its connection may yet come back or be dropped). Anything else is final. */
  function resumable(status, code) {
    return status >= 500 || code === "call_still_connected" || code === "resume_unavailable";
  }

  function webrtcUnavailable(cause) {
    var error = new Error("WebRTC unavailable: " + (cause && cause.message));
    error.webrtcUnavailable = true;
    return error;
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
