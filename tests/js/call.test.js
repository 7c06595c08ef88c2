/* assets/call.js, the in-browser call, run in Node against fakes of what the browser gives it: placing a call over
 * WebRTC, the fallback to the socket, resuming a call whose sidecar died, the live transcript, mute, hang-up and the
 * metrics the app gets. `node --test tests/js/` (tests/unit/test_call_script.py runs it under pytest). */
"use strict";

const test = require("node:test");
const assert = require("node:assert/strict");
const path = require("node:path");
const fs = require("node:fs");
const vm = require("node:vm");

const {
  Call, Transcript, PcmPlayer, pcmFramer, resumable, socketUrl, MESSAGES, settings,
} = require("../../assets/call.js");
const {
  FakeAudioContext, FakeClock, FakeDocument, FakeMediaStream, fakeFetch, fakeMicrophone, fakePeerConnection,
  fakeWebSocket, settle,
} = require("./fakes.js");

const RINGS_MS = 2 * (1100 + 700);
const ANSWER = { status: 200, body: { call_token: "token-1", sdp: "answer-sdp", conversation_id: 7 } };
const OK = { status: 200, body: { ok: true } };

/* A call page with its fakes: routes answer fetch; search is the page's query; webrtc false: no RTCPeerConnection. */
function callPage({ routes = {}, search = "", webrtc = true, offerFails = false, micError = null, livekit } = {}) {
  const clock = new FakeClock();
  const document = new FakeDocument();
  const root = document.body.appendChild(document.createElement("div"));
  root.id = "qv-call-root";
  const again = document.body.appendChild(document.createElement("button"));
  again.setAttribute("class", "qv-call-again");
  again.style.display = "none";
  const peers = [], sockets = [];
  const mic = fakeMicrophone();
  const fetch = fakeFetch(Object.assign({ "/api/public/calls/hangup": OK, "/api/public/calls/metrics": OK }, routes),
                          clock);
  const env = {
    document, clock, fetch,
    location: { protocol: "https:", host: "calls.example.com", search },
    getUserMedia: async () => { if (micError) throw micError; return mic; },
    RTCPeerConnection: webrtc ? fakePeerConnection(peers, { offerFails }) : undefined,
    WebSocket: fakeWebSocket(sockets),
    MediaStream: FakeMediaStream,
    AudioContext: FakeAudioContext,
    loadLiveKit: async () => livekit,
  };
  const page = {
    env, clock, document, peers, sockets, mic, fetch,
    get status() { return document.getElementById("qv-status"); },
    lines(speaker) {
      return document.querySelectorAll(".qv-turn").filter((node) => !speaker || node.getAttribute("data-speaker") === speaker);
    },
    /* Places the call (ticket "ticket-1") and lets it ring: WebRTC has made its offer, or the socket is opening. */
    async dial(options = {}) {
      page.call = new Call(env, Object.assign({ ticket: "ticket-1", color: "#0055FF", rawAudio: true }, options));
      page.call.start();
      await clock.advance(RINGS_MS);
      return page.call;
    },
    /* A WebRTC call, connected after connectMs. */
    async connected(connectMs = 0) {
      await page.dial();
      await clock.advance(connectMs);
      page.peers[0].become("connected");
      await settle();
    },
  };
  return page;
}

function says(page) {
  return page.status.textContent;
}

// ---- placing a call ---------------------------------------------------------------------------------------

test("a call rings, offers WebRTC with the gate's ticket and is connected", async () => {
  const page = callPage({ routes: { "/api/public/calls": ANSWER } });
  page.call = new Call(page.env, { ticket: "ticket-1", color: "#0055FF", rawAudio: true });
  page.call.start();
  await settle();
  assert.equal(says(page), "Ringing…");
  await page.clock.advance(RINGS_MS);
  assert.equal(says(page), "Connecting…");
  assert.equal(FakeAudioContext.made.at(-1).oscillators.length, 4, "two rings of two tones");

  assert.deepEqual(page.fetch.posted("/api/public/calls"), [{ ticket: "ticket-1", sdp: "offer-1", type: "offer" }]);
  const [peer] = page.peers;
  assert.equal(peer.channel.label, "events");
  assert.deepEqual(peer.tracks, page.mic.tracks, "the microphone goes to the sidecar");
  assert.equal(peer.remoteDescription.sdp, "answer-sdp");
  assert.equal(page.status.getAttribute("data-transport"), "webrtc");

  await page.clock.advance(300);
  peer.become("connected");
  await settle();
  assert.equal(says(page), "Connected");
  assert.equal(page.call.stats.connect_ms, 300);
  assert.equal(page.sockets.length, 0);
});

test("the page draws the call: level ring, status, transcript, Mute and Hang up", async () => {
  const page = callPage({ routes: { "/api/public/calls": ANSWER } });
  await page.connected();
  for (const id of ["qv-level", "qv-status", "qv-transcript", "qv-mute", "qv-hangup", "qv-remote-audio"]) {
    assert.ok(page.document.getElementById(id), id);
  }
  assert.equal(page.status.getAttribute("role"), "status");
  assert.equal(page.document.getElementById("qv-transcript").getAttribute("aria-label"), "Live transcript");
  assert.equal(page.document.getElementById("qv-level").style.background, "#0055FF");

  page.peers[0].playAgent();
  assert.ok(page.document.getElementById("qv-remote-audio").playing, "the agent's audio plays");
});

test("without a microphone the call ends with what to do about it", async () => {
  for (const [name, message] of [["NotAllowedError", MESSAGES.microphoneBlocked],
                                 ["NotFoundError", MESSAGES.noMicrophone]]) {
    const error = Object.assign(new Error("no"), { name });
    const page = callPage({ micError: error });
    await page.dial();
    assert.equal(says(page), message);
    assert.equal(page.status.getAttribute("data-failed"), "true");
    assert.equal(page.peers.length + page.sockets.length, 0);
    assert.equal(page.document.querySelector(".qv-call-again").style.display, "inline-flex");
  }
});

test("a busy service says so, and the call ends", async () => {
  const page = callPage({ routes: { "/api/public/calls": { status: 503, body: { error: { code: "no_voice_worker" } } } } });
  await page.dial();
  assert.equal(says(page), MESSAGES.busy);
  assert.equal(page.status.getAttribute("data-failed"), "true");
  assert.ok(page.peers[0].closed);
  assert.equal(page.sockets.length, 0, "a refusal is not a reason to try the socket");
});

test("a refusal with a reason shows the reason", async () => {
  const refusal = { status: 429, body: { error: { code: "rate_limited", message: "Too many calls from here." } } };
  const page = callPage({ routes: { "/api/public/calls": refusal } });
  await page.dial();
  assert.equal(says(page), "Too many calls from here.");
});

// ---- the socket fallback ----------------------------------------------------------------------------------

test("webrtc_unavailable sends the same ticket over the socket instead", async () => {
  const unavailable = { status: 503, body: { error: { code: "webrtc_unavailable", message: "no aiortc" } } };
  const page = callPage({ routes: { "/api/public/calls": unavailable } });
  await page.dial();
  assert.ok(page.peers[0].closed);
  assert.equal(page.sockets.length, 1);
  assert.equal(page.sockets[0].url, "wss://calls.example.com/api/public/calls/socket?ticket=ticket-1");
  assert.equal(page.status.getAttribute("data-transport"), "socket");
  page.sockets[0].started("token-9");
  await settle();
  assert.equal(says(page), "Connected");
  assert.equal(page.fetch.posted("/api/public/calls").length, 1, "the ticket was offered once");
});

test("a browser that cannot make the offer goes to the socket with the ticket", async () => {
  const page = callPage({ offerFails: true });
  await page.dial();
  assert.equal(page.fetch.requests.length, 0);
  assert.deepEqual(page.sockets[0].query, { ticket: "ticket-1" });
});

test("no RTCPeerConnection, or ?transport=socket, goes straight to the socket", async () => {
  for (const options of [{ webrtc: false }, { search: "?transport=socket&audio=raw" }]) {
    const page = callPage(Object.assign({ routes: { "/api/public/calls": ANSWER } }, options));
    await page.dial();
    assert.equal(page.peers.length, 0);
    assert.deepEqual(page.sockets[0].query, { ticket: "ticket-1" });
  }
});

test("WebRTC not connected within the timeout moves the call to the socket with its call token", async () => {
  const page = callPage({ routes: { "/api/public/calls": ANSWER } });
  await page.dial();
  await page.clock.advance(settings.CONNECT_TIMEOUT_MS - 1);
  assert.equal(page.sockets.length, 0, "still waiting for WebRTC");
  await page.clock.advance(1);
  assert.ok(page.peers[0].closed);
  assert.deepEqual(page.sockets[0].query, { call_token: "token-1" });
  page.sockets[0].started("token-1");
  await settle();
  assert.equal(says(page), "Connected");
  assert.equal(page.status.getAttribute("data-transport"), "socket");
});

test("WebRTC that fails before connecting falls back at once", async () => {
  const page = callPage({ routes: { "/api/public/calls": ANSWER } });
  await page.dial();
  page.peers[0].become("failed");
  await settle();
  assert.deepEqual(page.sockets[0].query, { call_token: "token-1" });
});

test("the socket carries the microphone as 20 ms 16 kHz frames and plays the agent's audio", async () => {
  const page = callPage({ search: "?transport=socket" });
  await page.dial();
  const socket = page.sockets[0];
  assert.equal(socket.binaryType, "arraybuffer");
  socket.started("token-1");
  await settle();
  const ctx = FakeAudioContext.made.at(-1);
  const [capture] = ctx.processors;
  capture.onaudioprocess({ inputBuffer: { getChannelData: () => new Float32Array(960).fill(0.5) } }); // 20 ms at 48k
  assert.equal(socket.frames().length, 1);
  assert.equal(socket.frames()[0].byteLength, settings.FRAME_SAMPLES * 2);
  assert.ok(new Int16Array(socket.frames()[0]).every((sample) => sample === 16383));

  socket.deliverAudio(new Int16Array(1600).fill(1000));
  assert.equal(ctx.sources.length, 1, "the agent's chunk is scheduled");
});

test("a socket refused with an error shows its message", async () => {
  const page = callPage({ search: "?transport=socket" });
  await page.dial();
  page.sockets[0].deliver({ type: "error", status: 429, code: "rate_limited", message: "Too many calls." });
  await settle();
  assert.equal(says(page), "Too many calls.");
  assert.equal(page.status.getAttribute("data-failed"), "true");
});

// ---- the live transcript ----------------------------------------------------------------------------------

test("events become the live transcript: agent turns in place, interrupted ones marked", async () => {
  const page = callPage({ routes: { "/api/public/calls": ANSWER } });
  await page.connected();
  const peer = page.peers[0];
  peer.deliver({ type: "transcript", speaker: "agent", text: "Hi! Welcome to Harbor View.", seq: 0,
                 interrupted: false, heard: null });
  peer.deliver({ type: "transcript", speaker: "caller", text: "My name is John." });
  peer.deliver({ type: "transcript", speaker: "agent", text: "Nice to meet you, John. What brings you here?", seq: 1,
                 interrupted: false, heard: null });
  peer.deliver({ type: "transcript", speaker: "agent", text: "Nice to meet you, John. What brings you here?", seq: 1,
                 interrupted: true, heard: "Nice to meet you" });
  peer.deliver({ type: "transcript", speaker: "caller", text: "The HOA fee." });

  assert.deepEqual(page.lines().map((node) => [node.getAttribute("data-speaker"), node.textContent]), [
    ["agent", "Hi! Welcome to Harbor View."],
    ["caller", "My name is John."],
    ["agent", "Nice to meet you, John. What brings you here? …"],
    ["caller", "The HOA fee."],
  ]);
  assert.deepEqual(page.lines("agent").map((node) => node.id), ["qv-agent-0", "qv-agent-1"]);
  assert.deepEqual(page.lines("caller").map((node) => node.className), ["qv-turn qv-caller", "qv-turn qv-caller"]);
});

test("the agent's state shows in the status line", async () => {
  const page = callPage({ routes: { "/api/public/calls": ANSWER } });
  await page.connected();
  for (const [state, shown] of [["thinking", "Thinking…"], ["speaking", "Speaking"], ["listening", "Listening…"]]) {
    page.peers[0].deliver({ type: "agent_state", state });
    assert.equal(says(page), shown);
  }
  page.peers[0].deliver({ type: "agent_state", state: "initializing" });
  assert.equal(says(page), "Listening…", "a state the page does not know is not shown");
});

test("Transcript numbers a resumed connection's turns after those shown", () => {
  const transcript = new Transcript();
  assert.equal(transcript.line({ speaker: "agent", text: "Hi", seq: 0 }, 0).id, "qv-agent-0");
  assert.equal(transcript.line({ speaker: "agent", text: "And?", seq: 1 }, 0).id, "qv-agent-1");
  const base = transcript.nextSeq;
  assert.equal(transcript.line({ speaker: "agent", text: "Sorry, we got cut off.", seq: 0 }, base).id, "qv-agent-2");
  assert.equal(transcript.line({ speaker: "caller", text: "Hello" }, base).id, null);
  assert.equal(transcript.line({ speaker: "caller", text: "Hel", seq: "lk-S1" }).id, "qv-caller-lk-S1");
});

// ---- mute and hang-up -------------------------------------------------------------------------------------

test("Mute stops the microphone until Unmute, and the status says so", async () => {
  const page = callPage({ routes: { "/api/public/calls": ANSWER } });
  await page.connected();
  const mute = page.document.getElementById("qv-mute");
  mute.click();
  assert.equal(page.mic.tracks[0].enabled, false);
  assert.equal(mute.textContent, "Unmute");
  assert.equal(mute.getAttribute("aria-pressed"), "true");
  assert.equal(says(page), "Muted");
  page.peers[0].deliver({ type: "agent_state", state: "speaking" });
  assert.equal(says(page), "Muted", "a muted caller keeps seeing Muted");
  mute.click();
  assert.equal(page.mic.tracks[0].enabled, true);
  assert.equal(mute.textContent, "Mute");
  assert.equal(says(page), "Listening…");
});

test("Hang up tells the sidecar and the app, sends the call's metrics and frees the microphone", async () => {
  const page = callPage({ routes: { "/api/public/calls": ANSWER } });
  await page.connected(250);
  await page.clock.advance(61_000);
  page.document.getElementById("qv-hangup").click();
  await settle();

  const peer = page.peers[0];
  assert.deepEqual(peer.channel.sent, [{ type: "hangup", reason: "caller_hung_up" }]);
  assert.deepEqual(page.fetch.posted("/api/public/calls/hangup"), [{ call_token: "token-1" }]);
  assert.deepEqual(page.fetch.posted("/api/public/calls/metrics"), [{ call_token: "token-1", metrics: {
    connect_ms: 250, rtt_ms: 42, jitter_ms: 5, packets_lost: 3, audio_drops: 2, duration_s: 65 } }]);
  assert.ok(page.fetch.requests.filter((r) => r.url.endsWith("/metrics")).every((r) => r.init.keepalive));
  assert.equal(says(page), "Call ended. Thanks for calling!");
  assert.equal(page.status.getAttribute("data-ended"), "true");
  assert.equal(page.status.getAttribute("data-failed"), null);
  assert.ok(page.document.getElementById("qv-hangup").disabled && page.document.getElementById("qv-mute").disabled);
  assert.ok(peer.closed && page.mic.tracks[0].stopped);
  assert.equal(FakeAudioContext.made.at(-1).state, "closed");
  assert.equal(page.document.querySelector(".qv-call-again").style.display, "inline-flex");

  page.document.getElementById("qv-hangup").dispatch("click");
  await settle();
  assert.equal(page.fetch.posted("/api/public/calls/metrics").length, 1, "hung up once");
});

test("a call the agent ends is over without a hang-up of the caller's", async () => {
  const page = callPage({ routes: { "/api/public/calls": ANSWER } });
  await page.connected();
  page.peers[0].deliver({ type: "ended", reason: "flow_completed" });
  await settle();
  assert.equal(says(page), "The call has ended. Thanks for calling!");
  assert.deepEqual(page.peers[0].channel.sent, []);
  assert.equal(page.fetch.posted("/api/public/calls/hangup").length, 0);
  assert.equal(page.fetch.posted("/api/public/calls/metrics")[0].call_token, "token-1");
});

test("hanging up while WebRTC is still connecting ends the call and reports it", async () => {
  const page = callPage({ routes: { "/api/public/calls": ANSWER } });
  await page.dial();
  page.document.getElementById("qv-hangup").click();
  await page.clock.advance(settings.CONNECT_TIMEOUT_MS);
  assert.equal(says(page), "Call ended. Thanks for calling!");
  assert.equal(page.sockets.length, 0, "no fallback for a call that has ended");
  assert.deepEqual(page.fetch.posted("/api/public/calls/hangup"), [{ call_token: "token-1" }]);
});

// ---- resuming a call whose sidecar died -------------------------------------------------------------------

test("a WebRTC call disconnected for a while resumes on another sidecar, its transcript carrying on", async () => {
  const page = callPage({ routes: { "/api/public/calls": ANSWER, "/api/public/calls/resume":
    { status: 200, body: { call_token: "token-2", sdp: "answer-2" } } } });
  await page.connected();
  const [first] = page.peers;
  first.deliver({ type: "transcript", speaker: "agent", text: "Hi! Welcome to Harbor View.", seq: 0 });
  first.deliver({ type: "transcript", speaker: "caller", text: "My name is John." });
  first.deliver({ type: "transcript", speaker: "agent", text: "Thanks, John.", seq: 1 });

  first.become("disconnected");
  await page.clock.advance(settings.RESUME_AFTER_MS - 1);
  assert.equal(says(page), "Connected", "a short drop may come back by itself");
  await page.clock.advance(1);
  assert.equal(says(page), "Reconnecting…");
  assert.equal(page.status.getAttribute("data-reconnecting"), "true");
  first.deliver({ type: "agent_state", state: "listening" });
  assert.equal(says(page), "Reconnecting…", "the agent's state does not hide that");

  assert.deepEqual(page.fetch.posted("/api/public/calls/resume"),
                   [{ call_token: "token-1", sdp: "offer-2", type: "offer" }]);
  const second = page.peers[1];
  second.become("connected");
  await settle();
  assert.equal(says(page), "Connected");
  assert.equal(page.status.getAttribute("data-reconnecting"), null);
  assert.ok(first.closed);
  assert.equal(page.call.stats.reconnects, 1);

  second.deliver({ type: "transcript", speaker: "agent", text: "Sorry, we got cut off. Where were we?", seq: 0 });
  assert.deepEqual(page.lines("agent").map((node) => [node.id, node.textContent]), [
    ["qv-agent-0", "Hi! Welcome to Harbor View."], ["qv-agent-1", "Thanks, John."],
    ["qv-agent-2", "Sorry, we got cut off. Where were we?"]]);

  page.document.getElementById("qv-hangup").click();
  await settle();
  assert.deepEqual(page.fetch.posted("/api/public/calls/hangup"), [{ call_token: "token-2" }]);
  assert.deepEqual(second.channel.sent, [{ type: "hangup", reason: "caller_hung_up" }]);
});

test("a short drop that comes back by itself is no reconnect", async () => {
  const page = callPage({ routes: { "/api/public/calls": ANSWER } });
  await page.connected();
  page.peers[0].become("disconnected");
  await page.clock.advance(1000);
  page.peers[0].become("connected");
  await page.clock.advance(10_000);
  assert.equal(page.fetch.posted("/api/public/calls/resume").length, 0);
  assert.equal(page.call.stats.reconnects, undefined);
});

test("a failed connection resumes at once", async () => {
  const page = callPage({ routes: { "/api/public/calls": ANSWER } });
  await page.connected();
  page.peers[0].become("failed");
  await page.clock.advance(0);
  assert.equal(page.fetch.posted("/api/public/calls/resume").length, 1);
});

test("resuming backs off between tries and gives up after a bounded number", async () => {
  const page = callPage({ routes: { "/api/public/calls": ANSWER, "/api/public/calls/resume":
    { status: 503, body: { error: { code: "resume_unavailable", message: "No voice assistant is free." } } } } });
  await page.connected();
  page.peers[0].become("disconnected");
  await page.clock.advance(settings.RESUME_AFTER_MS);
  const lostAt = page.clock.now();
  await page.clock.advance(60_000);

  const tries = page.fetch.requests.filter((r) => r.url === "/api/public/calls/resume");
  const delays = settings.RESUME_DELAYS_MS;
  assert.equal(tries.length, delays.length);
  assert.deepEqual(tries.map((r) => r.at - lostAt), delays.map((_, i) => delays.slice(0, i + 1).reduce((a, b) => a + b)));
  assert.ok(tries.every((r) => r.body.call_token === "token-1"));
  assert.equal(says(page), "We couldn't reconnect your call. Press Call to start again.");
  assert.equal(page.status.getAttribute("data-failed"), "true");
  assert.equal(page.status.getAttribute("data-reconnecting"), null);
  assert.deepEqual(page.fetch.posted("/api/public/calls/hangup"), [{ call_token: "token-1" }]);
  assert.equal(page.fetch.posted("/api/public/calls/metrics")[0].metrics.reconnects, 1);
  assert.ok(page.peers.every((peer) => peer.closed));
});

test("a final refusal stops resuming and says why", async () => {
  const page = callPage({ routes: { "/api/public/calls": ANSWER, "/api/public/calls/resume":
    { status: 409, body: { error: { code: "call_ended", message: "This call has ended." } } } } });
  await page.connected();
  page.peers[0].become("failed");
  await page.clock.advance(60_000);
  assert.equal(page.fetch.posted("/api/public/calls/resume").length, 1);
  assert.equal(says(page), "This call has ended.");
});

test("a lost connection that comes back while resuming carries the call on", async () => {
  const page = callPage({ routes: { "/api/public/calls": ANSWER, "/api/public/calls/resume":
    { status: 409, body: { error: { code: "call_still_connected", message: "still there" } } } } });
  await page.connected();
  const [first] = page.peers;
  first.become("disconnected");
  await page.clock.advance(settings.RESUME_AFTER_MS);
  assert.equal(page.fetch.posted("/api/public/calls/resume").length, 1, "refused for now: its sidecar holds it");
  first.become("connected");
  await page.clock.advance(60_000);
  assert.equal(page.fetch.posted("/api/public/calls/resume").length, 1, "no more tries");
  assert.equal(says(page), "Connected");
  assert.ok(!first.closed);
  first.deliver({ type: "agent_state", state: "thinking" });
  assert.equal(says(page), "Thinking…");
  page.document.getElementById("qv-hangup").click();
  await settle();
  assert.deepEqual(first.channel.sent, [{ type: "hangup", reason: "caller_hung_up" }]);
});

test("a resumed call whose WebRTC will not connect goes on over the socket", async () => {
  const page = callPage({ routes: { "/api/public/calls": ANSWER, "/api/public/calls/resume":
    { status: 200, body: { call_token: "token-2", sdp: "answer-2" } } } });
  await page.connected();
  page.peers[0].become("failed");
  await page.clock.advance(settings.CONNECT_TIMEOUT_MS);
  assert.deepEqual(page.sockets[0].query, { call_token: "token-2" });
});

test("a socket closed without an ended event resumes over a new socket with the call token", async () => {
  const page = callPage({ search: "?transport=socket" });
  await page.dial();
  page.sockets[0].started("token-1");
  await settle();
  page.sockets[0].deliver({ type: "transcript", speaker: "agent", text: "Hi!", seq: 0 });
  page.sockets[0].drop();
  await settle();
  assert.equal(says(page), "Reconnecting…");
  await page.clock.advance(0);
  assert.deepEqual(page.sockets[1].query, { resume: "token-1" });
  page.sockets[1].started("token-2");
  await settle();
  assert.equal(says(page), "Connected");
  page.sockets[1].deliver({ type: "transcript", speaker: "agent", text: "Sorry, we got cut off.", seq: 0 });
  assert.deepEqual(page.lines("agent").map((node) => node.id), ["qv-agent-0", "qv-agent-1"]);

  page.document.getElementById("qv-hangup").click();
  await settle();
  assert.deepEqual(page.sockets[1].texts(), [{ type: "hangup", reason: "caller_hung_up" }]);
  assert.equal(page.sockets[1].closedWith, 1000);
  assert.deepEqual(page.fetch.posted("/api/public/calls/hangup"), [{ call_token: "token-2" }]);
});

test("a socket closed after the call ended is not resumed", async () => {
  const page = callPage({ search: "?transport=socket" });
  await page.dial();
  page.sockets[0].started("token-1");
  await settle();
  page.sockets[0].deliver({ type: "ended", reason: "flow_completed" });
  page.sockets[0].drop();
  await page.clock.advance(60_000);
  assert.equal(page.sockets.length, 1);
  assert.equal(says(page), "The call has ended. Thanks for calling!");
});

// ---- LiveKit mode -----------------------------------------------------------------------------------------

function fakeLiveKit() {
  const rooms = [];
  class Room {
    constructor() {
      this.handlers = {};
      this.localParticipant = { identity: "caller-1", published: [], publishTrack: async (t) => this.localParticipant.published.push(t) };
      rooms.push(this);
    }
    on(event, handler) { this.handlers[event] = handler; }
    registerTextStreamHandler(topic, handler) { this.textHandler = handler; this.topic = topic; }
    async connect(url, token) { this.joined = { url, token }; }
    async disconnect() { this.left = true; }
  }
  return { rooms, Room, RoomEvent: { TrackSubscribed: "subscribed", ParticipantAttributesChanged: "attributes",
                                     Disconnected: "disconnected" } };
}

test("LiveKit mode joins the call's room and shows its transcriptions and state", async () => {
  const LK = fakeLiveKit();
  const page = callPage({ livekit: LK, routes: { "/api/public/calls/livekit":
    { status: 200, body: { call_token: "token-lk", url: "wss://lk.example.com", token: "jwt" } } } });
  await page.dial({ media: "livekit" });
  assert.deepEqual(page.fetch.posted("/api/public/calls/livekit"), [{ ticket: "ticket-1" }]);
  const [room] = LK.rooms;
  assert.deepEqual(room.joined, { url: "wss://lk.example.com", token: "jwt" });
  assert.deepEqual(room.localParticipant.published, [page.mic.tracks[0]]);
  assert.equal(room.topic, "lk.transcription");
  assert.equal(says(page), "Connected");
  assert.equal(page.status.getAttribute("data-transport"), "livekit");

  const segment = (text, id) => ({ readAll: async () => text, info: { id: "stream", attributes: { "lk.segment_id": id } } });
  await room.textHandler(segment("Hi there", "S1"), { identity: "agent-1" });
  await room.textHandler(segment("Hi there, welcome.", "S1"), { identity: "agent-1" });
  await room.textHandler(segment("Hello", "S2"), { identity: "caller-1" });
  assert.deepEqual(page.lines().map((node) => [node.id, node.textContent]),
                   [["qv-agent-lk-S1", "Hi there, welcome."], ["qv-caller-lk-S2", "Hello"]]);

  room.handlers.attributes({}, { attributes: { "lk.agent.state": "thinking" } });
  assert.equal(says(page), "Thinking…");
  room.handlers.disconnected();
  await settle();
  assert.equal(says(page), "The call has ended. Thanks for calling!");
  assert.deepEqual(page.fetch.posted("/api/public/calls/metrics")[0].call_token, "token-lk");
});

// ---- the pieces -------------------------------------------------------------------------------------------

test("resumable: no sidecar yet, or its sidecar still holds it; anything else is final", () => {
  assert.ok(resumable(503, "resume_unavailable"));
  assert.ok(resumable(409, "call_still_connected"));
  assert.ok(resumable(502, undefined));
  assert.ok(!resumable(409, "call_ended"));
  assert.ok(!resumable(401, "invalid_token"));
});

test("socketUrl: the socket on the page's own origin, wss under https", () => {
  assert.equal(socketUrl({ protocol: "http:", host: "localhost:3000" }, { resume: "a b" }),
               "ws://localhost:3000/api/public/calls/socket?resume=a%20b");
  assert.equal(socketUrl({ protocol: "https:", host: "x.test" }, { call_token: "t" }),
               "wss://x.test/api/public/calls/socket?call_token=t");
});

test("pcmFramer: 44.1 kHz samples become 320-sample frames, clipped to Int16", () => {
  const frames = [];
  const framer = pcmFramer(44100, (frame) => frames.push(new Int16Array(frame)));
  framer(new Float32Array(441).fill(2)); // 10 ms: half a frame
  assert.equal(frames.length, 0);
  framer(new Float32Array(500).fill(-2));
  assert.equal(frames.length, 1);
  assert.equal(frames[0].length, 320);
  assert.equal(frames[0][0], 32767);
  assert.equal(frames[0][319], -32768);
});

test("PcmPlayer plays chunks back to back and counts one late in speech as a drop", () => {
  const ctx = new FakeAudioContext();
  const stats = {};
  const player = new PcmPlayer(ctx, stats);
  ctx.currentTime = 1;
  player.play(new Int16Array(1600)); // 100 ms, a little ahead of the clock
  player.play(new Int16Array(1600)); // right after it
  assert.deepEqual(ctx.sources.map((s) => s.startedAt.toFixed(3)), ["1.100", "1.200"]);
  ctx.currentTime = 1.4; // the next chunk comes after the last one ran out
  player.play(new Int16Array(1600));
  assert.equal(stats.audio_drops, 1);
  ctx.currentTime = 5; // a new reply after a pause is no drop
  player.play(new Int16Array(1600));
  assert.equal(stats.audio_drops, 1);
});

test("in a browser the script defines window.QVCall and hangs the call up when the page goes", async () => {
  const document = new FakeDocument();
  const root = document.body.appendChild(document.createElement("div"));
  root.id = "qv-call-root";
  const listeners = {};
  const window = {
    document, location: { protocol: "http:", host: "h", search: "" }, performance: { now: () => 0 },
    navigator: { mediaDevices: { getUserMedia: () => new Promise(() => {}) } },
    setTimeout, clearTimeout, setInterval, clearInterval, requestAnimationFrame: () => 0,
    addEventListener: (type, listener) => { listeners[type] = listener; },
  };
  const source = fs.readFileSync(path.join(__dirname, "../../assets/call.js"), "utf8");
  vm.runInNewContext(source, { window, URLSearchParams, Promise });
  const call = window.QVCall.start({ ticket: "t", rootId: "qv-call-root" });
  await settle();
  assert.equal(window.QVCall.current, call);
  assert.equal(document.getElementById("qv-status").textContent, "Getting your microphone…");
  listeners.pagehide();
  await settle();
  assert.ok(call.ended);
  assert.equal(document.getElementById("qv-status").getAttribute("data-ended"), "true");
});
