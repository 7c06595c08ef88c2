/* The agent workspace's audio (/agent): the team member's side of a caller they took, and the queue's alert.
 *
 * window.QVAgentAudio.mount(root) draws "Connect audio", Mute, a status line and a microphone level meter inside
 * root (#agent-audio-root; React leaves it empty); its data-handoff-id names the call. Connect: the microphone →
 * the WebSocket /api/handoffs/{id}/audio on this origin (the sign-in cookie goes with it). The server first says
 * {"type":"joined"} (or {"type":"error", message} and closes); then binary messages are 16 kHz mono s16le PCM both
 * ways — the microphone, resampled, to the server; the caller's voice, played back to back, from it. {"type":
 * "ended"} ends it. disconnect() sends {"type":"leave"} and closes (the page calls it on hand back and on the end).
 * window.QVAgentAudio.queueAlert(count, arrived): the waiting count in the tab's title, and a short beep when a
 * caller arrived.
 *
 * The same shape as assets/call.js's socket path (plain browser JavaScript, no bundler): nothing but the browser
 * entry at the bottom touches a global; the browser's objects come in `env`, so tests/js/agent_audio.test.js runs
 * this file in Node with fakes.
 */
(function () {
  "use strict";

  var PCM_RATE = 16000; // the socket's audio, both ways
  var FRAME_SAMPLES = 320; // 20 ms per message
  var JITTER_SECONDS = 0.1; // how far ahead of the clock the caller's audio is scheduled
  var MAX_BUFFERED_BYTES = 64000; // the socket is 2 s behind: drop the microphone rather than lag
  var BEEP_HZ = 880, BEEP_SECONDS = 0.15;
  var CAPTURE_WORKLET = "class QVAgentCapture extends AudioWorkletProcessor {\n" +
    "  process(inputs) { var input = inputs[0]; if (input && input[0]) this.port.postMessage(input[0].slice(0));" +
    " return true; }\n}\nregisterProcessor('qv-agent-capture', QVAgentCapture);\n";

  var MESSAGES = {
    idle: "Audio not connected. Connect to hear the caller and speak to them.",
    microphone: "Getting your microphone…",
    connecting: "Connecting…",
    connected: "Connected",
    muted: "Connected — muted",
    ended: "The call has ended.",
    notYours: "The call is no longer with you, so its audio was closed.",
    notConnected: "The call's audio could not connect. Try again in a moment.",
    lost: "The audio was cut off. Press Connect audio to try again.",
    left: "Audio disconnected.",
    microphoneBlocked: "Microphone access is blocked. Allow the microphone for this site (the icon in the address " +
      "bar), then press Connect audio again. The rest of the page keeps working.",
    noMicrophone: "No microphone was found. Plug one in, then press Connect audio again.",
    noAudio: "This browser cannot carry the call's audio. Try an up-to-date Chrome, Safari or Firefox.",
    noCall: "There is no call to connect to.",
  };

  /* ---- Helpers (pure) ------------------------------------------------------------------------------------ */

  function noop() {}

  function socketUrl(location, handoffId) {
    return (location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/api/handoffs/" +
      encodeURIComponent(handoffId) + "/audio";
  }

  /* What to tell the agent when getUserMedia fails. */
  function microphoneMessage(error) {
    var name = error && error.name;
    if (name === "NotAllowedError" || name === "SecurityError" || name === "PermissionDeniedError") {
      return MESSAGES.microphoneBlocked;
    }
    if (name === "NotFoundError" || name === "OverconstrainedError" || name === "DevicesNotFoundError") {
      return MESSAGES.noMicrophone;
    }
    return MESSAGES.noAudio;
  }

  /* Microphone samples (floats at the context's rate) → 20 ms Int16 frames at 16 kHz, to send(). Each output sample
   * is the mean of the input samples in its 1/16000 s (the same resampling as assets/call.js). */
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

  /* An analyser's time-domain bytes (128 = silence) → the peak level, 0 to 1. */
  function levelOf(samples) {
    var level = 0;
    for (var i = 0; i < samples.length; i++) level = Math.max(level, Math.abs(samples[i] - 128) / 128);
    return level;
  }

  /* The server's "ended" reason in words: the call itself ended, or the hand-off left this agent (handoff_<status>). */
  function endedMessage(reason) {
    return String(reason || "").indexOf("handoff_") === 0 ? MESSAGES.notYours : MESSAGES.ended;
  }

  /* The tab's title with the waiting count in front: "(2) Agent workspace · …"; none when nobody waits. */
  function titleWithCount(title, count) {
    var bare = String(title || "").replace(/^\(\d+\) /, "");
    return count > 0 ? "(" + count + ") " + bare : bare;
  }

  /* ---- The caller's voice, played back to back --------------------------------------------------------- */

  function PcmPlayer(ctx) {
    this.ctx = ctx;
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
    if (this.next <= ctx.currentTime) this.next = ctx.currentTime + JITTER_SECONDS; // a gap: start afresh
    source.start(this.next);
    this.next += buffer.duration;
  };

  /* ---- AgentAudio: one root, one connection at a time ---------------------------------------------------- */

  function AgentAudio(env, root) {
    this.env = env;
    this.root = root;
    this.socket = this.ctx = this.mic = null;
    this.stopCapture = noop;
    this.muted = this.connected = false;
    this.draw();
  }

  AgentAudio.prototype.el = function (tag, attrs, text) {
    var node = this.env.document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (key) {
      if (key === "style") Object.assign(node.style, attrs.style);
      else node.setAttribute(key, attrs[key]);
    });
    if (text) node.textContent = text;
    return node;
  };

  AgentAudio.prototype.draw = function () {
    var self = this, button = { padding: "6px 12px", borderRadius: "6px", border: "1px solid var(--gray-a7)",
                                 cursor: "pointer", font: "inherit", background: "var(--color-panel-solid)" };
    this.connectButton = this.el("button", { type: "button", id: "agent-audio-connect",
      style: Object.assign({}, button, { background: "var(--accent-9)", color: "white", border: "none" }) },
      "Connect audio");
    this.muteButton = this.el("button", { type: "button", id: "agent-audio-mute", "aria-pressed": "false",
      style: button }, "Mute");
    this.enableMute(false);
    this.status = this.el("p", { id: "agent-audio-status", role: "status", "aria-live": "polite",
      style: { margin: "8px 0 4px", fontSize: "14px" } }, MESSAGES.idle);
    this.meter = this.el("div", { id: "agent-audio-level", "aria-hidden": "true", style: {
      width: "0%", height: "100%", background: "var(--green-9)", transition: "width 60ms linear" } });
    var track = this.el("div", { title: "Your microphone", style: { height: "6px", borderRadius: "3px",
      background: "var(--gray-a4)", overflow: "hidden", width: "100%" } });
    track.appendChild(this.meter);
    var buttons = this.el("div", { style: { display: "flex", gap: "8px", flexWrap: "wrap" } });
    buttons.appendChild(this.connectButton);
    buttons.appendChild(this.muteButton);
    [buttons, this.status, track].forEach(function (node) { self.root.appendChild(node); });
    this.connectButton.addEventListener("click", function () {
      if (self.socket) self.disconnect(MESSAGES.left); else self.connect();
    });
    this.muteButton.addEventListener("click", function () { self.mute(!self.muted); });
  };

  AgentAudio.prototype.enableMute = function (enabled) {
    this.muteButton.disabled = !enabled;
    this.muteButton.style.opacity = enabled ? "1" : "0.5";
    this.muteButton.style.cursor = enabled ? "pointer" : "not-allowed";
  };

  AgentAudio.prototype.say = function (text, isError) {
    this.status.textContent = text;
    this.status.style.color = isError ? "var(--red-11)" : "";
    this.status.setAttribute("data-error", isError ? "true" : "false");
  };

  AgentAudio.prototype.connect = async function () {
    var env = this.env, self = this;
    var handoffId = this.root.getAttribute("data-handoff-id");
    if (!handoffId || handoffId === "0") return this.say(MESSAGES.noCall, true);
    if (!env.AudioContext || !env.WebSocket || !env.getUserMedia) return this.say(MESSAGES.noAudio, true);
    this.say(MESSAGES.microphone);
    try {
      this.mic = await env.getUserMedia({ audio: { echoCancellation: true, noiseSuppression: true, channelCount: 1 } });
    } catch (error) {
      return this.say(microphoneMessage(error), true);
    }
    this.ctx = new env.AudioContext();
    if (this.ctx.state === "suspended") await this.ctx.resume().catch(noop);
    this.say(MESSAGES.connecting);
    var socket = this.socket = new env.WebSocket(socketUrl(env.location, handoffId));
    socket.binaryType = "arraybuffer";
    var player = new PcmPlayer(this.ctx);
    this.connectButton.textContent = "Disconnect";
    socket.onmessage = function (ev) {
      if (typeof ev.data !== "string") return player.play(new Int16Array(ev.data));
      var message = JSON.parse(ev.data);
      if (message.type === "joined") self.joined();
      else if (message.type === "error") self.disconnect(message.message || MESSAGES.lost, true);
      else if (message.type === "ended") self.disconnect(endedMessage(message.reason));
    };
    socket.onclose = function () { self.disconnect(self.connected ? MESSAGES.lost : MESSAGES.notConnected, true); };
  };

  /* The server let the agent in: the microphone starts flowing and the meter moves. */
  AgentAudio.prototype.joined = async function () {
    var self = this, env = this.env, socket = this.socket, ctx = this.ctx;
    this.connected = true;
    this.enableMute(true);
    this.say(this.muted ? MESSAGES.muted : MESSAGES.connected);
    var source = ctx.createMediaStreamSource(this.mic);
    var framer = pcmFramer(ctx.sampleRate, function (frame) {
      if (socket.readyState === env.WebSocket.OPEN && socket.bufferedAmount < MAX_BUFFERED_BYTES) socket.send(frame);
    });
    var node = (await this.workletNode(ctx, framer)) || scriptNode(ctx, framer);
    if (this.socket !== socket) return; // disconnected meanwhile
    var silent = ctx.createGain(); // the capture node must reach the destination to run; it adds nothing
    silent.gain.value = 0;
    silent.connect(ctx.destination);
    source.connect(node);
    node.connect(silent);
    var analyser = ctx.createAnalyser();
    analyser.fftSize = 512;
    source.connect(analyser);
    var samples = new Uint8Array(512), meter = this.meter;
    (function measure() {
      if (self.socket !== socket) return;
      analyser.getByteTimeDomainData(samples);
      meter.style.width = Math.round(Math.min(1, levelOf(samples) * 2) * 100) + "%";
      env.frame(measure);
    })();
    this.stopCapture = function () {
      try { source.disconnect(); node.disconnect(); } catch (e) { /* the context is closed already */ }
    };
  };

  AgentAudio.prototype.workletNode = async function (ctx, framer) {
    var env = this.env;
    if (!ctx.audioWorklet || !env.AudioWorkletNode) return null;
    var url = env.URL.createObjectURL(new env.Blob([CAPTURE_WORKLET], { type: "application/javascript" }));
    try {
      await ctx.audioWorklet.addModule(url);
      var node = new env.AudioWorkletNode(ctx, "qv-agent-capture");
      node.port.onmessage = function (ev) { framer(ev.data); };
      return node;
    } catch (e) {
      return null; // an older browser: the older node does the same
    } finally {
      env.URL.revokeObjectURL(url);
    }
  };

  function scriptNode(ctx, framer) {
    var node = ctx.createScriptProcessor(2048, 1, 1);
    node.onaudioprocess = function (ev) { framer(ev.inputBuffer.getChannelData(0)); };
    return node;
  }

  AgentAudio.prototype.mute = function (muted) {
    this.muted = muted;
    (this.mic ? this.mic.getAudioTracks() : []).forEach(function (track) { track.enabled = !muted; });
    this.muteButton.textContent = muted ? "Unmute" : "Mute";
    this.muteButton.setAttribute("aria-pressed", muted ? "true" : "false");
    if (this.connected) this.say(muted ? MESSAGES.muted : MESSAGES.connected);
  };

  /* Leave the call's audio (the page hands back or ends the call, or the agent pressed Disconnect). */
  AgentAudio.prototype.disconnect = function (message, isError) {
    var socket = this.socket;
    if (socket) {
      this.socket = null;
      socket.onclose = socket.onmessage = null;
      if (socket.readyState === this.env.WebSocket.OPEN) {
        try { socket.send(JSON.stringify({ type: "leave" })); } catch (e) { /* closing anyway */ }
      }
      try { socket.close(1000); } catch (e) { /* already closed */ }
    }
    this.stopCapture();
    this.stopCapture = noop;
    (this.mic ? this.mic.getTracks() : []).forEach(function (track) { track.stop(); });
    if (this.ctx) this.ctx.close().catch(noop);
    this.mic = this.ctx = null;
    this.connected = false;
    this.enableMute(false);
    this.meter.style.width = "0%";
    this.connectButton.textContent = "Connect audio";
    if (message) this.say(message, isError);
  };

  /* ---- The queue's alert ------------------------------------------------------------------------------- */

  function beep(env) {
    if (!env.AudioContext) return;
    try {
      var ctx = new env.AudioContext(), osc = ctx.createOscillator(), gain = ctx.createGain();
      osc.frequency.value = BEEP_HZ;
      gain.gain.value = 0.1;
      osc.connect(gain);
      gain.connect(ctx.destination);
      osc.start();
      osc.stop(ctx.currentTime + BEEP_SECONDS);
      env.setTimeout(function () { ctx.close().catch(noop); }, 1000);
    } catch (e) { /* no sound allowed before the first click: the title and the highlight still show it */ }
  }

  function queueAlert(env, count, arrived) {
    env.document.title = titleWithCount(env.document.title, count);
    if (arrived > 0) beep(env);
  }

  /* ---- Browser entry ----------------------------------------------------------------------------------- */

  function browserEnv(win) {
    return {
      document: win.document,
      location: win.location,
      getUserMedia: win.navigator.mediaDevices && function (constraints) {
        return win.navigator.mediaDevices.getUserMedia(constraints);
      },
      WebSocket: win.WebSocket,
      AudioContext: win.AudioContext || win.webkitAudioContext,
      AudioWorkletNode: win.AudioWorkletNode,
      Blob: win.Blob,
      URL: win.URL,
      frame: function (fn) { return win.requestAnimationFrame(fn); },
      setTimeout: function (fn, ms) { return win.setTimeout(fn, ms); },
    };
  }

  if (typeof window !== "undefined" && window.document) {
    var env = browserEnv(window);
    var api = window.QVAgentAudio = {
      current: null,
      /* Draws the controls into root once (React re-renders leave them alone). */
      mount: function (root) {
        if (!root || (api.current && api.current.root === root)) return api.current;
        if (api.current) api.current.disconnect();
        api.current = new AgentAudio(env, root);
        return api.current;
      },
      disconnect: function () { if (api.current) api.current.disconnect(MESSAGES.left); },
      queueAlert: function (count, arrived) { queueAlert(env, count, arrived); },
    };
    api.mount(window.document.getElementById("agent-audio-root"));
    window.addEventListener("pagehide", function () { api.disconnect(); });
  }

  if (typeof module !== "undefined" && module.exports) {
    module.exports = {
      AgentAudio: AgentAudio, PcmPlayer: PcmPlayer, pcmFramer: pcmFramer, levelOf: levelOf, socketUrl: socketUrl,
      microphoneMessage: microphoneMessage, endedMessage: endedMessage, titleWithCount: titleWithCount,
      queueAlert: queueAlert, MESSAGES: MESSAGES, settings: { PCM_RATE: PCM_RATE, FRAME_SAMPLES: FRAME_SAMPLES },
    };
  }
})();
