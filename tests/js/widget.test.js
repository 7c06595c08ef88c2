/* assets/widget.js, the script businesses paste into their websites, run in Node on a fake page: the button it
 * adds, the call page it opens (a panel, or a popup window), and how it is reached by keyboard. */
"use strict";

const test = require("node:test");
const assert = require("node:assert/strict");
const fs = require("node:fs");
const path = require("node:path");
const vm = require("node:vm");

const { FakeDocument } = require("./fakes.js");

const SOURCE = fs.readFileSync(path.join(__dirname, "../../assets/widget.js"), "utf8");

/* A host page with the widget's script tag (attributes as given), the script run on it. */
function hostPage(attributes, { smallScreen = false, popupBlocked = false, bodyLater = false } = {}) {
  const document = new FakeDocument();
  const script = document.head.appendChild(document.createElement("script"));
  script.src = "https://app.example.com/widget.js?v=2";
  for (const [name, value] of Object.entries(attributes)) script.setAttribute(name, value);
  document.currentScript = script;
  const warnings = [], popups = [];
  const window = {
    console: { warn: (message) => warnings.push(message) },
    matchMedia: (query) => ({ matches: smallScreen && query === "(max-width: 640px)" }),
    open: (url, name, features) => {
      if (popupBlocked) return null;
      const popup = { url, name, features, opener: "host", focus() { this.focused = true; } };
      popups.push(popup);
      return popup;
    },
  };
  let body = document.body;
  if (bodyLater) document.body = null;
  const run = () => vm.runInNewContext(SOURCE, { window, document, console: window.console });
  run();
  if (bodyLater) {
    document.body = body;
    (document.listeners.DOMContentLoaded || []).forEach((listener) => listener());
  }
  const host = document.body.querySelector("div");
  const shadow = host && host.shadowRoot;
  return {
    document, script, warnings, popups, host, run,
    launcher: shadow && shadow.querySelector(".qv-launcher"),
    panel: shadow && shadow.querySelector(".qv-panel"),
    close: shadow && shadow.querySelector(".qv-close"),
    css: shadow && shadow.querySelector("style").textContent,
    frame: () => shadow.querySelector("iframe"),
  };
}

test("the widget adds a labelled call button that opens the campaign's call page in a panel", () => {
  const page = hostPage({ "data-campaign": "harbor-view", "data-label": "Ask us" });
  assert.equal(page.host.getAttribute("data-quantum-voice-widget"), "harbor-view");
  const { launcher, panel } = page;
  assert.equal(launcher.tagName, "BUTTON");
  assert.equal(launcher.getAttribute("type"), "button");
  assert.equal(launcher.getAttribute("aria-label"), "Ask us (voice call)");
  assert.equal(launcher.getAttribute("aria-expanded"), "false");
  assert.equal(launcher.getAttribute("aria-controls"), panel.id);
  assert.equal(panel.id, "qv-panel-harbor-view");
  assert.equal(panel.getAttribute("role"), "dialog");
  assert.equal(panel.getAttribute("aria-label"), "Ask us");
  assert.ok(panel.hidden);
  assert.equal(page.frame(), null, "no call page until the caller asks");

  launcher.click();
  assert.ok(!panel.hidden);
  assert.equal(launcher.getAttribute("aria-expanded"), "true");
  const frame = page.frame();
  assert.equal(frame.getAttribute("src"), "https://app.example.com/call/harbor-view?embed=1&src=widget");
  assert.equal(frame.getAttribute("allow"), "microphone; autoplay");
  assert.equal(frame.getAttribute("title"), "Ask us");
  assert.equal(page.document.activeElement, page.close, "focus moves into the panel");
});

test("closing the panel ends the call (the page goes) and gives focus back", () => {
  const page = hostPage({ "data-campaign": "harbor-view" });
  assert.equal(page.close.getAttribute("aria-label"), "Close the call");
  assert.equal(page.close.getAttribute("type"), "button");
  page.launcher.click();
  page.close.click();
  assert.ok(page.panel.hidden);
  assert.equal(page.frame(), null);
  assert.equal(page.launcher.getAttribute("aria-expanded"), "false");
  assert.equal(page.document.activeElement, page.launcher);

  page.launcher.click();
  page.panel.dispatch("keydown", { key: "Escape" });
  assert.ok(page.panel.hidden, "Escape closes it too");
  page.launcher.click();
  page.launcher.click();
  assert.ok(page.panel.hidden, "the button toggles it");
});

test("popup mode, or a small screen, opens the call page in a window of its own", () => {
  for (const [attributes, options] of [[{ "data-mode": "popup" }, {}], [{}, { smallScreen: true }]]) {
    const page = hostPage(Object.assign({ "data-campaign": "open house" }, attributes), options);
    page.launcher.click();
    assert.equal(page.popups.length, 1);
    const [popup] = page.popups;
    assert.equal(popup.url, "https://app.example.com/call/open%20house?embed=1&src=widget");
    assert.equal(popup.name, "quantum-voice-open house");
    assert.match(popup.features, /^popup,/);
    assert.equal(popup.opener, null, "the call page cannot reach back into the host page");
    assert.ok(popup.focused);
    assert.ok(page.panel.hidden);
  }
});

test("a blocked popup falls back to the panel", () => {
  const page = hostPage({ "data-campaign": "harbor-view", "data-mode": "popup" }, { popupBlocked: true });
  page.launcher.click();
  assert.ok(!page.panel.hidden);
  assert.ok(page.frame());
});

test("the brand colour is used when valid, with readable text on it", () => {
  assert.match(hostPage({ "data-campaign": "a", "data-color": "#FFEE00" }).css, /background: #FFEE00; color: #111111;/);
  assert.match(hostPage({ "data-campaign": "a", "data-color": "#102030" }).css, /background: #102030; color: #FFFFFF;/);
  assert.match(hostPage({ "data-campaign": "a", "data-color": "red;}" }).css, /background: #6E56CF;/);
  assert.equal(hostPage({ "data-campaign": "a" }).launcher.textContent, "Talk to us");
});

test("without data-campaign the widget warns and adds nothing", () => {
  const page = hostPage({});
  assert.equal(page.host, null);
  assert.equal(page.warnings.length, 1);
  assert.match(page.warnings[0], /data-campaign/);
});

test("a script run twice mounts one widget, and one that loads before the body waits for it", () => {
  const page = hostPage({ "data-campaign": "harbor-view" });
  page.run();
  assert.equal(page.document.body.querySelectorAll("div").filter((node) => node.shadowRoot).length, 1);
  const early = hostPage({ "data-campaign": "harbor-view" }, { bodyLater: true });
  assert.ok(early.launcher);
});
