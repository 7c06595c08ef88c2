/* Small stand-ins for what the browser scripts in assets/ touch: a DOM, a clock, fetch, WebSocket,
 * RTCPeerConnection, an AudioContext and a microphone. Each records what it was asked, so a test checks what the
 * page did (the request it sent, the element it drew) rather than how its source reads. */
"use strict";

class FakeElement {
  constructor(document, tag) {
    this.ownerDocument = document;
    this.tagName = tag.toUpperCase();
    this.attributes = new Map();
    this.style = {};
    this.children = [];
    this.parentNode = null;
    this.listeners = {};
    this.text = "";
    this.disabled = false;
    this.hidden = false;
    this.scrollTop = 0;
    this.scrollHeight = 0;
    this.focused = false;
  }

  setAttribute(name, value) {
    this.attributes.set(name, String(value));
    if (name === "hidden") this.hidden = true;
  }
  getAttribute(name) { return this.attributes.has(name) ? this.attributes.get(name) : null; }
  hasAttribute(name) { return this.attributes.has(name); }
  removeAttribute(name) { this.attributes.delete(name); }
  get id() { return this.getAttribute("id") || ""; }
  set id(value) { this.setAttribute("id", value); }
  get className() { return this.getAttribute("class") || ""; }
  get classes() { return this.className.split(/\s+/).filter(Boolean); }

  get textContent() { return this.text + this.children.map((child) => child.textContent).join(""); }
  set textContent(value) { this.children = []; this.text = String(value); }
  set innerHTML(value) { this.children = []; this.text = ""; this.html = value; }
  get innerHTML() { return this.html || ""; }

  appendChild(child) {
    if (child.parentNode) child.parentNode.removeChild(child);
    child.parentNode = this;
    this.children.push(child);
    return child;
  }
  removeChild(child) {
    this.children = this.children.filter((node) => node !== child);
    child.parentNode = null;
    return child;
  }
  replaceWith(node) {
    const siblings = this.parentNode.children;
    siblings[siblings.indexOf(this)] = node;
    node.parentNode = this.parentNode;
    this.parentNode = null;
  }

  addEventListener(type, listener) { (this.listeners[type] = this.listeners[type] || []).push(listener); }
  dispatch(type, event = {}) { (this.listeners[type] || []).forEach((listener) => listener(event)); }
  click() { if (!this.disabled) this.dispatch("click", { type: "click" }); }
  focus() { this.ownerDocument.activeElement = this; }
  play() { this.playing = true; return Promise.resolve(); }
  attachShadow() { this.shadowRoot = new FakeElement(this.ownerDocument, "#shadow-root"); return this.shadowRoot; }

  * walk() {
    yield this;
    for (const child of this.children) yield* child.walk();
    if (this.shadowRoot) yield* this.shadowRoot.walk();
  }
  matches(selector) {
    if (selector.startsWith(".")) return this.classes.includes(selector.slice(1));
    if (selector.startsWith("#")) return this.id === selector.slice(1);
    return this.tagName === selector.toUpperCase();
  }
  querySelectorAll(selector) { return [...this.walk()].filter((node) => node !== this && node.matches(selector)); }
  querySelector(selector) { return this.querySelectorAll(selector)[0] || null; }
}

class FakeDocument {
  constructor() {
    this.html = new FakeElement(this, "html");
    this.head = this.html.appendChild(new FakeElement(this, "head"));
    this.body = this.html.appendChild(new FakeElement(this, "body"));
    this.activeElement = this.body;
    this.listeners = {};
  }
  createElement(tag) { return new FakeElement(this, tag); }
  getElementById(id) { return [...this.html.walk()].find((node) => node.id === id) || null; }
  querySelectorAll(selector) { return this.html.querySelectorAll(selector); }
  querySelector(selector) { return this.html.querySelector(selector); }
  addEventListener(type, listener) { (this.listeners[type] = this.listeners[type] || []).push(listener); }
}

/* Lets every pending promise callback run (a few rounds of the event loop). */
async function settle() {
  for (let i = 0; i < 30; i++) await new Promise((resolve) => setImmediate(resolve));
}

/* A clock that moves only when the test says so: timers, sleeps and animation frames wait for advance(). */
class FakeClock {
  constructor() {
    this.time = 0;
    this.timers = [];
    this.nextId = 1;
  }
  now() { return this.time; }
  setTimeout(fn, ms) {
    const id = this.nextId++;
    this.timers.push({ id, at: this.time + (ms || 0), fn });
    return id;
  }
  clearTimeout(id) { this.timers = this.timers.filter((timer) => timer.id !== id); }
  setInterval(fn, ms) {
    const id = this.nextId++;
    const tick = () => { fn(); this.timers.push({ id, at: this.time + ms, fn: tick }); };
    this.timers.push({ id, at: this.time + ms, fn: tick });
    return id;
  }
  clearInterval(id) { this.clearTimeout(id); }
  sleep(ms) { return new Promise((resolve) => this.setTimeout(resolve, ms)); }
  frame() { /* the level meter's animation: not run in tests */ }

  /* Moves the clock ms on, running each timer due on the way (and what its promises lead to). */
  async advance(ms = 0) {
    const until = this.time + ms;
    await settle();
    for (;;) {
      const due = this.timers.filter((timer) => timer.at <= until).sort((a, b) => a.at - b.at)[0];
      if (!due) break;
      this.timers = this.timers.filter((timer) => timer !== due);
      this.time = due.at;
      due.fn();
      await settle();
    }
    this.time = until;
    await settle();
  }
}

/* fetch answering from routes: {url: {status, body} | (body) => {status, body}}; an unknown url is a network
 * error. Records {url, body, at} of each request. */
function fakeFetch(routes, clock) {
  const requests = [];
  async function fetch(url, init = {}) {
    const body = init.body ? JSON.parse(init.body) : undefined;
    requests.push({ url, body, at: clock.now(), init });
    const route = routes[url];
    const answer = typeof route === "function" ? route(body) : route;
    if (!answer) throw new TypeError("Failed to fetch " + url);
    return { ok: answer.status < 400, status: answer.status, json: async () => answer.body };
  }
  fetch.requests = requests;
  fetch.posted = (url) => requests.filter((request) => request.url === url).map((request) => request.body);
  return fetch;
}

function fakeMicrophone() {
  const tracks = [{ kind: "audio", enabled: true, stopped: false, stop() { this.stopped = true; } }];
  return { tracks, getTracks: () => tracks, getAudioTracks: () => tracks };
}

class FakeMediaStream {
  constructor(tracks) { this.tracks = tracks; }
}

class FakeDataChannel {
  constructor(label) {
    this.label = label;
    this.readyState = "connecting";
    this.sent = [];
  }
  send(text) { this.sent.push(JSON.parse(text)); }
}

/* An RTCPeerConnection class whose instances land in peers; a test moves each with become(state) and sends the
 * page events with deliver(message). createOffer fails when options.offerFails. */
function fakePeerConnection(peers, options = {}) {
  return class FakePeerConnection {
    constructor(config) {
      this.config = config;
      this.connectionState = "new";
      this.iceGatheringState = "complete";
      this.tracks = [];
      this.closed = false;
      peers.push(this);
    }
    createDataChannel(label) { this.channel = new FakeDataChannel(label); return this.channel; }
    addTrack(track) { this.tracks.push(track); }
    async createOffer() {
      if (options.offerFails) throw new Error("no codecs");
      return { type: "offer", sdp: "offer-" + peers.length };
    }
    async setLocalDescription(description) { this.localDescription = description; }
    async setRemoteDescription(description) { this.remoteDescription = description; }
    addEventListener() {}
    async getStats() {
      return new Map([
        ["pair", { type: "candidate-pair", nominated: true, currentRoundTripTime: 0.042 }],
        ["in", { type: "inbound-rtp", kind: "audio", jitter: 0.005, packetsLost: 3, concealmentEvents: 2 }],
      ]);
    }
    close() { this.closed = true; this.connectionState = "closed"; }

    become(state) {
      this.connectionState = state;
      if (state === "connected") this.channel.readyState = "open";
      if (this.onconnectionstatechange) this.onconnectionstatechange();
    }
    deliver(message) { if (this.channel.onmessage) this.channel.onmessage({ data: JSON.stringify(message) }); }
    playAgent() { if (this.ontrack) this.ontrack({ streams: [new FakeMediaStream(["agent"])], track: "agent" }); }
  };
}

/* A WebSocket class whose instances land in sockets; a test answers with started(token), deliver(message),
 * deliverAudio(int16) and drop() (closed by the other side). */
function fakeWebSocket(sockets) {
  return class FakeWebSocket {
    static OPEN = 1;
    constructor(url) {
      this.url = url;
      this.readyState = 0;
      this.bufferedAmount = 0;
      this.sent = [];
      sockets.push(this);
    }
    get query() { return Object.fromEntries(new URL(this.url.replace(/^ws/, "http")).searchParams); }
    send(data) { this.sent.push(data); }
    close(code) { this.closedWith = code; this.readyState = 3; }

    started(callToken) { this.readyState = 1; this.deliver({ type: "started", call_token: callToken, conversation_id: 7 }); }
    deliver(message) { if (this.onmessage) this.onmessage({ data: JSON.stringify(message) }); }
    deliverAudio(samples) { if (this.onmessage) this.onmessage({ data: samples.buffer }); }
    drop() { this.readyState = 3; if (this.onclose) this.onclose({ code: 1006 }); }
    texts() { return this.sent.filter((data) => typeof data === "string").map((text) => JSON.parse(text)); }
    frames() { return this.sent.filter((data) => typeof data !== "string"); }
  };
}

class FakeAudioNode {
  constructor(kind) { this.kind = kind; this.outputs = []; this.gain = { value: 1 }; this.frequency = { value: 0 }; }
  connect(node) { this.outputs.push(node); }
  disconnect() { this.outputs = []; this.disconnected = true; }
  start(at) { this.startedAt = at; }
  stop() { this.stopped = true; }
  getByteTimeDomainData(samples) { samples.fill(128); }
}

/* An AudioContext that keeps what was made: processors (the microphone's capture), sources (scheduled audio). */
class FakeAudioContext {
  constructor() {
    this.sampleRate = 48000;
    this.currentTime = 0;
    this.state = "running";
    this.destination = new FakeAudioNode("destination");
    this.processors = [];
    this.sources = [];
    this.oscillators = [];
    FakeAudioContext.made.push(this);
  }
  createGain() { return new FakeAudioNode("gain"); }
  createOscillator() { const node = new FakeAudioNode("oscillator"); this.oscillators.push(node); return node; }
  createMediaStreamSource(stream) { const node = new FakeAudioNode("stream"); node.stream = stream; return node; }
  createAnalyser() { return new FakeAudioNode("analyser"); }
  createScriptProcessor() { const node = new FakeAudioNode("processor"); this.processors.push(node); return node; }
  createBuffer(channels, length, rate) {
    const data = new Float32Array(length);
    return { duration: length / rate, getChannelData: () => data };
  }
  createBufferSource() { const node = new FakeAudioNode("buffer"); this.sources.push(node); return node; }
  async resume() { this.state = "running"; }
  async close() { this.state = "closed"; }
}
FakeAudioContext.made = [];

module.exports = {
  FakeAudioContext, FakeClock, FakeDocument, FakeElement, FakeMediaStream, fakeFetch, fakeMicrophone,
  fakePeerConnection, fakeWebSocket, settle,
};
