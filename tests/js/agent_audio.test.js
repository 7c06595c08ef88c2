/* assets/agent_audio.js, the agent workspace's audio, run in Node against fakes of the browser: the socket's address,
 * the microphone's resampling, joining a call, the server's refusal and end, a blocked microphone, mute, leaving,
 * and the queue's alert. `node --test tests/js/agent_audio.test.js`. */
"use strict";

const test = require("node:test");
const assert = require("node:assert/strict");

const {
  AgentAudio, pcmFramer, levelOf, socketUrl, microphoneMessage, endedMessage, titleWithCount, queueAlert, MESSAGES,
  settings,
} = require("../../assets/agent_audio.js");
const { FakeAudioContext, FakeDocument, fakeMicrophone, fakeWebSocket, settle } = require("./fakes.js");

/* The workspace's audio box for hand-off 12, with its fakes; micError: what getUserMedia throws. */
function workspace({ micError = null, handoffId = "12" } = {}) {
  const document = new FakeDocument();
  const root = document.body.appendChild(document.createElement("div"));
  root.setAttribute("data-handoff-id", handoffId);
  const sockets = [], mic = fakeMicrophone();
  const env = {
    document, location: { protocol: "https:", host: "app.example.com" },
    getUserMedia: async () => { if (micError) throw micError; return mic; },
    WebSocket: fakeWebSocket(sockets), AudioContext: FakeAudioContext,
    frame() {}, setTimeout() {},
  };
  const audio = new AgentAudio(env, root);
  return {
    audio, sockets, mic, document,
    get status() { return document.getElementById("agent-audio-status"); },
    async connect() {
      document.getElementById("agent-audio-connect").click();
      await settle();
      return sockets[sockets.length - 1];
    },
  };
}

test("the socket is the hand-off's audio on this origin, wss under https", () => {
  assert.equal(socketUrl({ protocol: "https:", host: "app.example.com" }, 12),
               "wss://app.example.com/api/handoffs/12/audio");
  assert.equal(socketUrl({ protocol: "http:", host: "localhost:3000" }, "7"),
               "ws://localhost:3000/api/handoffs/7/audio");
});

test("48 kHz microphone samples become 20 ms frames of 16 kHz s16le", () => {
  const frames = [];
  const framer = pcmFramer(48000, (frame) => frames.push(new Int16Array(frame)));
  framer(new Float32Array(48000 / 50).fill(0.5)); // 20 ms at 48 kHz
  assert.equal(frames.length, 1);
  assert.equal(frames[0].length, settings.FRAME_SAMPLES);
  assert.ok(frames[0].every((sample) => sample === Math.trunc(0.5 * 32767)));
});

test("the level is the peak of the analyser's bytes, silence is 0", () => {
  assert.equal(levelOf(new Uint8Array([128, 128])), 0);
  assert.equal(levelOf(new Uint8Array([128, 192, 64])), 0.5);
});

test("a blocked or missing microphone gets its own message", () => {
  assert.equal(microphoneMessage({ name: "NotAllowedError" }), MESSAGES.microphoneBlocked);
  assert.equal(microphoneMessage({ name: "NotFoundError" }), MESSAGES.noMicrophone);
  assert.equal(microphoneMessage(new Error("odd")), MESSAGES.noAudio);
});

test("joining: the microphone flows only once the server said joined, and the caller's voice plays", async () => {
  const page = workspace();
  const socket = await page.connect();
  assert.equal(socket.url, "wss://app.example.com/api/handoffs/12/audio");
  assert.equal(page.status.textContent, MESSAGES.connecting);
  const ctx = FakeAudioContext.made[FakeAudioContext.made.length - 1];
  assert.equal(ctx.processors.length, 0);
  socket.readyState = 1;
  socket.deliver({ type: "joined", conversation_id: 3 });
  await settle();
  assert.equal(page.status.textContent, MESSAGES.connected);
  ctx.processors[0].onaudioprocess({ inputBuffer: { getChannelData: () => new Float32Array(960) } });
  assert.equal(socket.frames().length, 1);
  socket.deliverAudio(new Int16Array(320).fill(1000));
  assert.equal(ctx.sources.length, 1);
  assert.ok(ctx.sources[0].startedAt > 0);
});

test("mute silences the microphone's track and says so; leaving sends leave and closes", async () => {
  const page = workspace();
  const socket = await page.connect();
  socket.readyState = 1;
  socket.deliver({ type: "joined", conversation_id: 3 });
  await settle();
  page.document.getElementById("agent-audio-mute").click();
  assert.equal(page.mic.tracks[0].enabled, false);
  assert.equal(page.status.textContent, MESSAGES.muted);
  page.audio.disconnect(MESSAGES.left);
  assert.deepEqual(socket.texts(), [{ type: "leave" }]);
  assert.equal(socket.closedWith, 1000);
  assert.equal(page.mic.tracks[0].stopped, true);
  assert.equal(page.document.getElementById("agent-audio-connect").textContent, "Connect audio");
});

test("the server's refusal and the call's end are shown, and the socket is let go", async () => {
  const refused = workspace();
  const socket = await refused.connect();
  socket.deliver({ type: "error", status: 409, code: "handoff_not_ongoing", message: "This call is not with you." });
  assert.equal(refused.status.textContent, "This call is not with you.");
  assert.equal(refused.status.getAttribute("data-error"), "true");
  assert.equal(socket.closedWith, 1000);

  const ended = workspace();
  const other = await ended.connect();
  other.readyState = 1;
  other.deliver({ type: "joined", conversation_id: 3 });
  other.deliver({ type: "ended", reason: "caller_hung_up" });
  assert.equal(ended.status.textContent, MESSAGES.ended);
  assert.equal(endedMessage("handoff_completed"), MESSAGES.notYours);
});

test("a blocked microphone says so and opens no socket", async () => {
  const page = workspace({ micError: { name: "NotAllowedError" } });
  await page.connect();
  assert.equal(page.sockets.length, 0);
  assert.equal(page.status.textContent, MESSAGES.microphoneBlocked);
});

test("the queue's alert counts callers in the title and beeps only when one arrived", () => {
  assert.equal(titleWithCount("Agent workspace · Quantum Voice", 2), "(2) Agent workspace · Quantum Voice");
  assert.equal(titleWithCount("(2) Agent workspace · Quantum Voice", 0), "Agent workspace · Quantum Voice");
  const env = { document: { title: "Agent workspace" }, AudioContext: FakeAudioContext, setTimeout() {} };
  const before = FakeAudioContext.made.length;
  queueAlert(env, 1, 0);
  assert.equal(FakeAudioContext.made.length, before);
  queueAlert(env, 2, 1);
  assert.equal(env.document.title, "(2) Agent workspace");
  assert.equal(FakeAudioContext.made[FakeAudioContext.made.length - 1].oscillators.length, 1);
});
