/*
 * Quantum Voice web widget: a floating "Talk to us" button that opens a campaign's call page.
 *
 *   <script src="https://APP/widget.js" data-campaign="SLUG" data-color="#6E56CF" data-label="Talk to us"
 *           data-mode="panel" async></script>
 *
 * data-campaign  the campaign's slug (required)
 * data-color     button colour, #RRGGBB (default #6E56CF)
 * data-label     button text (default "Talk to us")
 * data-mode      "panel" (default: the call page in a panel on this page) or "popup" (a window of its own);
 *                small screens always get the popup, a panel would be too cramped there.
 *
 * No dependencies. Its styles live in a shadow root, so the host page's CSS neither breaks it nor is touched.
 */
(function () {
  "use strict";

  var DEFAULT_COLOR = "#6E56CF";
  var DEFAULT_LABEL = "Talk to us";
  var SMALL_SCREEN = "(max-width: 640px)";

  function ownScript() {
    if (document.currentScript) return document.currentScript;
    var candidates = document.querySelectorAll('script[data-campaign][src*="widget.js"]:not([data-qv-ready])');
    return candidates.length ? candidates[candidates.length - 1] : null;
  }

  var script = ownScript();
  if (!script || script.getAttribute("data-qv-ready")) return;
  script.setAttribute("data-qv-ready", "1");

  var slug = (script.getAttribute("data-campaign") || "").trim();
  if (!slug) {
    if (window.console) console.warn("Quantum Voice widget: add data-campaign=\"SLUG\" to its script tag.");
    return;
  }
  // The app's address is wherever this script came from (https://APP/widget.js → https://APP).
  var app = script.src.replace(/[?#].*$/, "").replace(/\/widget\.js$/, "");
  var color = /^#[0-9a-fA-F]{6}$/.test(script.getAttribute("data-color") || "") ? script.getAttribute("data-color")
    : DEFAULT_COLOR;
  var label = (script.getAttribute("data-label") || "").trim() || DEFAULT_LABEL;
  var popupOnly = (script.getAttribute("data-mode") || "").toLowerCase() === "popup";
  var callUrl = app + "/call/" + encodeURIComponent(slug) + "?embed=1&src=widget";

  // Black or white text, whichever reads better on the brand colour (WCAG relative luminance).
  function textColorOn(hex) {
    var channels = [1, 3, 5].map(function (i) {
      var c = parseInt(hex.substr(i, 2), 16) / 255;
      return c <= 0.03928 ? c / 12.92 : Math.pow((c + 0.055) / 1.055, 2.4);
    });
    var luminance = 0.2126 * channels[0] + 0.7152 * channels[1] + 0.0722 * channels[2];
    return luminance > 0.179 ? "#111111" : "#FFFFFF";
  }

  var css = [
    ":host { all: initial; }",
    ".qv-launcher { position: fixed; right: 20px; bottom: 20px; z-index: 2147483000; display: inline-flex;",
    "  align-items: center; gap: 8px; min-height: 48px; padding: 0 20px; border: 0; border-radius: 999px;",
    "  background: " + color + "; color: " + textColorOn(color) + "; cursor: pointer;",
    "  font: 600 16px/1.2 system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif;",
    "  box-shadow: 0 6px 20px rgba(0,0,0,.25); }",
    ".qv-launcher:focus-visible, .qv-close:focus-visible { outline: 3px solid #1a73e8; outline-offset: 3px; }",
    ".qv-launcher svg { width: 20px; height: 20px; fill: currentColor; }",
    ".qv-panel { position: fixed; right: 20px; bottom: 84px; z-index: 2147483000; display: flex;",
    "  flex-direction: column; width: 380px; max-width: calc(100vw - 40px); height: 620px;",
    "  max-height: calc(100vh - 110px); background: #fff; border-radius: 16px; overflow: hidden;",
    "  box-shadow: 0 12px 40px rgba(0,0,0,.3); }",
    ".qv-panel[hidden] { display: none; }",
    ".qv-bar { display: flex; align-items: center; justify-content: space-between; padding: 8px 8px 8px 16px;",
    "  background: " + color + "; color: " + textColorOn(color) + ";",
    "  font: 600 15px/1.2 system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif; }",
    ".qv-close { width: 40px; height: 40px; border: 0; border-radius: 8px; background: transparent;",
    "  color: inherit; font-size: 24px; line-height: 1; cursor: pointer; }",
    ".qv-frame { flex: 1; width: 100%; border: 0; }"
  ].join("\n");

  var PHONE_ICON = '<svg viewBox="0 0 24 24" aria-hidden="true" focusable="false"><path d="M6.6 10.8a15.1 15.1 0 0 0 ' +
    '6.6 6.6l2.2-2.2a1 1 0 0 1 1-.25 11.4 11.4 0 0 0 3.6.57 1 1 0 0 1 1 1V20a1 1 0 0 1-1 1A17 17 0 0 1 3 4a1 1 0 0 ' +
    '1 1-1h3.5a1 1 0 0 1 1 1c0 1.25.2 2.45.57 3.57a1 1 0 0 1-.25 1z"/></svg>';

  function element(tag, attributes, text) {
    var el = document.createElement(tag);
    for (var name in attributes) el.setAttribute(name, attributes[name]);
    if (text) el.textContent = text;
    return el;
  }

  function mount() {
    var host = element("div", { "data-quantum-voice-widget": slug });
    var root = host.attachShadow ? host.attachShadow({ mode: "open" }) : host;
    var style = element("style", {});
    style.textContent = css;
    var panelId = "qv-panel-" + slug.replace(/[^a-zA-Z0-9_-]/g, "");

    var launcher = element("button", {
      type: "button", "class": "qv-launcher", "aria-label": label + " (voice call)",
      "aria-haspopup": "dialog", "aria-expanded": "false", "aria-controls": panelId
    });
    launcher.innerHTML = PHONE_ICON;  // a constant: no page or attribute value goes through innerHTML
    launcher.appendChild(element("span", {}, label));

    var panel = element("div", { id: panelId, "class": "qv-panel", role: "dialog", "aria-label": label, hidden: "" });
    var bar = element("div", { "class": "qv-bar" });
    var close = element("button", { type: "button", "class": "qv-close", "aria-label": "Close the call" }, "\u00d7");
    bar.appendChild(element("span", {}, label));
    bar.appendChild(close);
    panel.appendChild(bar);

    function openPanel() {
      if (!panel.querySelector("iframe")) {
        // created on open, removed on close: closing the panel ends the call and frees the microphone
        panel.appendChild(element("iframe", {
          "class": "qv-frame", src: callUrl, title: label, allow: "microphone; autoplay"
        }));
      }
      panel.hidden = false;
      launcher.setAttribute("aria-expanded", "true");
      close.focus();
    }

    function closePanel() {
      var frame = panel.querySelector("iframe");
      if (frame) panel.removeChild(frame);
      panel.hidden = true;
      launcher.setAttribute("aria-expanded", "false");
      launcher.focus();
    }

    function openPopup() {
      var popup = window.open(callUrl, "quantum-voice-" + slug, "popup,width=420,height=720");
      if (!popup) return false;  // blocked: fall back to the panel
      popup.opener = null;
      popup.focus();
      return true;
    }

    launcher.addEventListener("click", function () {
      if (!panel.hidden) return closePanel();
      var small = window.matchMedia && window.matchMedia(SMALL_SCREEN).matches;
      if ((popupOnly || small) && openPopup()) return;
      openPanel();
    });
    close.addEventListener("click", closePanel);
    panel.addEventListener("keydown", function (event) {
      if (event.key === "Escape") closePanel();
    });

    root.appendChild(style);
    root.appendChild(panel);
    root.appendChild(launcher);
    document.body.appendChild(host);
  }

  if (document.body) mount();
  else document.addEventListener("DOMContentLoaded", mount);
})();
