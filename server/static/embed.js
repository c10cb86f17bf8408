/* PolicyQA embeddable widget.
 *
 * Usage on any page:
 *   <script src="http://HOST:8000/static/embed.js" data-policyqa-base="http://HOST:8000"></script>
 *
 * Adds a floating button (bottom-right) that opens the PolicyQA chat in an
 * iframe (BASE + "/?embed=1"), 400x600 on desktop, full screen on phones.
 * If data-policyqa-base is omitted, the origin of the script's src is used.
 */
(function () {
  "use strict";
  if (window.__policyqaEmbedLoaded) return;
  window.__policyqaEmbedLoaded = true;

  var script = document.currentScript;
  if (!script) {
    var all = document.querySelectorAll("script[data-policyqa-base], script[src*='embed.js']");
    script = all[all.length - 1] || null;
  }
  var base = script && script.getAttribute("data-policyqa-base");
  if (!base && script && script.src) {
    try { base = new URL(script.src, location.href).origin; } catch (e) { base = ""; }
  }
  base = String(base || "").replace(/\/+$/, "");
  var SRC = base + "/?embed=1";
  var TITLE = "PolicyQA 政策问答";

  var css = [
    "#pqa-launcher{position:fixed;right:20px;bottom:20px;z-index:2147483646;width:56px;height:56px;",
    "border-radius:50%;border:0;padding:0;margin:0;cursor:pointer;background:#2563eb;color:#fff;",
    "box-shadow:0 6px 20px rgba(37,99,235,.35),0 2px 6px rgba(0,0,0,.15);display:flex;",
    "align-items:center;justify-content:center;transition:transform .15s,background .15s;}",
    "#pqa-launcher:hover{background:#1d4ed8;transform:scale(1.05);}",
    "#pqa-launcher:focus-visible{outline:3px solid #93c5fd;outline-offset:2px;}",
    "#pqa-launcher svg{width:26px;height:26px;display:block;}",
    "#pqa-panel{position:fixed;right:20px;bottom:88px;z-index:2147483647;width:400px;height:600px;",
    "max-width:calc(100vw - 24px);max-height:calc(100vh - 108px);background:#fff;border-radius:14px;",
    "overflow:hidden;box-shadow:0 12px 40px rgba(16,24,40,.25);display:flex;flex-direction:column;",
    "font-family:-apple-system,BlinkMacSystemFont,'Segoe UI','PingFang SC','Microsoft YaHei',",
    "'Noto Sans CJK SC',sans-serif;}",
    "#pqa-panel[hidden]{display:none!important;}",
    "#pqa-bar{flex:none;display:flex;align-items:center;justify-content:space-between;height:44px;",
    "padding:0 8px 0 14px;background:#2563eb;color:#fff;font-size:15px;font-weight:600;line-height:1;}",
    "#pqa-close{border:0;background:transparent;color:#fff;font-size:24px;line-height:1;width:36px;",
    "height:36px;cursor:pointer;border-radius:8px;padding:0;margin:0;}",
    "#pqa-close:hover{background:rgba(255,255,255,.15);}",
    "#pqa-frame{flex:1;width:100%;border:0;display:block;background:#f4f6fa;}",
    "@media (max-width:480px),(max-height:560px){",
    "#pqa-panel{inset:0;right:0;bottom:0;width:100%;height:100%;max-width:none;max-height:none;",
    "border-radius:0;}",
    "#pqa-panel:not([hidden])~#pqa-launcher{display:none;}}"
  ].join("");

  var CHAT_ICON =
    '<svg viewBox="0 0 24 24" fill="none" stroke="currentColor" stroke-width="2" ' +
    'stroke-linecap="round" stroke-linejoin="round" aria-hidden="true">' +
    '<path d="M21 12a8 8 0 0 1-11.6 7.1L4 20l1-4.6A8 8 0 1 1 21 12z"/></svg>';
  var CLOSE_ICON =
    '<svg viewBox="0 0 24 24" fill="none" stroke="currentColor" stroke-width="2.4" ' +
    'stroke-linecap="round" aria-hidden="true"><path d="M6 6l12 12M18 6L6 18"/></svg>';

  function init() {
    var style = document.createElement("style");
    style.id = "pqa-style";
    style.textContent = css;
    document.head.appendChild(style);

    var panel = document.createElement("div");
    panel.id = "pqa-panel";
    panel.hidden = true;
    panel.setAttribute("role", "dialog");
    panel.setAttribute("aria-label", TITLE);

    var bar = document.createElement("div");
    bar.id = "pqa-bar";
    var title = document.createElement("span");
    title.textContent = TITLE;
    var close = document.createElement("button");
    close.id = "pqa-close";
    close.type = "button";
    close.setAttribute("aria-label", "关闭 / Close");
    close.textContent = "×";
    bar.appendChild(title);
    bar.appendChild(close);
    panel.appendChild(bar);

    var btn = document.createElement("button");
    btn.id = "pqa-launcher";
    btn.type = "button";
    btn.title = TITLE;
    btn.setAttribute("aria-label", "打开 " + TITLE);
    btn.setAttribute("aria-expanded", "false");
    btn.innerHTML = CHAT_ICON; // static, trusted markup only

    document.body.appendChild(panel);
    document.body.appendChild(btn); // after panel so the phone CSS sibling rule works

    var frame = null;
    function open() {
      if (!frame) { // lazy: load the chat only on first open
        frame = document.createElement("iframe");
        frame.id = "pqa-frame";
        frame.title = TITLE;
        frame.src = SRC;
        frame.setAttribute("allow", "clipboard-write");
        panel.appendChild(frame);
      }
      panel.hidden = false;
      btn.innerHTML = CLOSE_ICON;
      btn.setAttribute("aria-expanded", "true");
      btn.setAttribute("aria-label", "关闭 " + TITLE);
      try { frame.focus(); } catch (e) { /* ignore */ }
    }
    function hide() {
      panel.hidden = true;
      btn.innerHTML = CHAT_ICON;
      btn.setAttribute("aria-expanded", "false");
      btn.setAttribute("aria-label", "打开 " + TITLE);
    }
    btn.addEventListener("click", function () { if (panel.hidden) open(); else hide(); });
    close.addEventListener("click", function () { hide(); btn.focus(); });
    document.addEventListener("keydown", function (e) {
      if (e.key === "Escape" && !panel.hidden) hide();
    });

    window.PolicyQA = { open: open, close: hide, base: base };
  }

  if (document.body) init();
  else document.addEventListener("DOMContentLoaded", init);
})();
