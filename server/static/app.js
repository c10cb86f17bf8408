/* PolicyQA chat widget — plain JS, no dependencies, no external assets.
 *
 * API used:
 *   POST /api/ask            {"question": str, "history"?: [{role, content}], "filters"?: {"collections": [str]}}
 *     -> {answer, refused, citations: [{n, chunk_id, doc_id, doc_title, doc_number,
 *         issuer, date, clause_path, text, score, start, end, status, version_date,
 *         newer_version: {doc_id, title, version_date} | null,
 *         cites: [{doc_id, title, article, clause_id}]}], latency_ms}
 *   GET  /api/documents      -> [{doc_id, title, collection, ...}]   (the collections offered in the selector)
 *   GET  /api/documents/{id} -> {doc_id, title, doc_number, issuer, date, text,
 *                               clauses: [{clause_id, path, start, end}]}
 *   POST /api/feedback       {question, answer, rating: "up"|"down", comment, reason, citations, refused,
 *                             log_id (the answer's row in the conversation log)}
 *
 * A server that requires a read key (POLICYQA_REQUIRE_READ_KEY, or a key scoped to collections) gets it as
 * "Authorization: Bearer KEY": open the widget as /#key=KEY once (the key is kept for the tab in
 * sessionStorage, shared with the /admin console, and removed from the address bar).
 *
 * All document / answer text is inserted with textContent / text nodes only.
 */
(function () {
  "use strict";

  var ASK_URL = "/api/ask";
  var DOC_URL = "/api/documents/";
  var FEEDBACK_URL = "/api/feedback";
  var DOCS_URL = "/api/documents";
  var ASK_TIMEOUT_MS = 120000;
  var KEY_STORE = "policyqa.adminKey";  // the console's store: a key given to either serves both

  var params = new URLSearchParams(window.location.search);
  var EMBED = params.get("embed") === "1";
  if (EMBED) document.documentElement.classList.add("embed");

  var $ = function (id) { return document.getElementById(id); };
  var messages = $("messages");
  var inner = $("messages-inner");
  var empty = $("empty");
  var form = $("composer");
  var input = $("question");
  var collection = $("collection");
  var sendBtn = $("send");
  var viewer = $("viewer");
  var viewerTitle = $("viewer-title");
  var viewerMeta = $("viewer-meta");
  var viewerClause = $("viewer-clause");
  var viewerText = $("viewer-text");
  var viewerClose = $("viewer-close");

  var busy = false;
  var docCache = new Map();   // doc_id -> Promise<doc>
  var viewerToken = 0;        // ignores stale document loads
  var lastOpener = null;      // element to refocus when the viewer closes
  var feedbackCounter = 0;    // unique ids for the comment boxes

  /* ---------- small DOM helpers ---------- */

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null && text !== "") node.textContent = String(text);
    return node;
  }

  function str(v) {
    return v === undefined || v === null ? "" : String(v);
  }

  function scrollToBottom() {
    messages.scrollTop = messages.scrollHeight;
  }

  /* Show the top of a (possibly long) message; otherwise stick to the bottom. */
  function revealMessage(node) {
    var top = node.offsetTop - 12;
    if (node.offsetHeight > messages.clientHeight - 24) messages.scrollTop = top;
    else scrollToBottom();
  }

  function hideEmpty() {
    if (empty && empty.parentNode) empty.parentNode.removeChild(empty);
    empty = null;
  }

  /* ---------- composer ---------- */

  function autoGrow() {
    if (!input.value) { input.style.height = ""; return; } // placeholder must not grow it
    input.style.height = "auto";
    input.style.height = Math.min(input.scrollHeight, 160) + "px";
  }

  function setBusy(on) {
    busy = on;
    sendBtn.disabled = on;
    sendBtn.textContent = on ? "…" : "发送";
    sendBtn.setAttribute("aria-busy", on ? "true" : "false");
    form.classList.toggle("busy", on);
  }

  input.addEventListener("input", autoGrow);
  input.addEventListener("keydown", function (e) {
    // Enter sends; Shift+Enter inserts a newline; never send mid-IME composition.
    if (e.key === "Enter" && !e.shiftKey && !e.isComposing && e.keyCode !== 229) {
      e.preventDefault();
      submit();
    }
  });
  form.addEventListener("submit", function (e) {
    e.preventDefault();
    submit();
  });

  Array.prototype.forEach.call(document.querySelectorAll(".example-chip"), function (chip) {
    chip.addEventListener("click", function () {
      input.value = chip.textContent.trim();
      autoGrow();
      submit();
    });
  });

  function submit() {
    if (busy) return;
    var q = input.value.trim();
    if (!q) { input.focus(); return; }
    input.value = "";
    autoGrow();
    ask(q);
  }

  /* ---------- asking ---------- */

  function addUserMessage(q) {
    var msg = el("div", "msg user");
    msg.appendChild(el("div", "bubble", q));
    inner.appendChild(msg);
    return msg;
  }

  function addPending() {
    var msg = el("div", "msg pending");
    var b = el("div", "bubble");
    b.appendChild(el("span", "dots", "正在检索文件 / searching"));
    var d = el("span", "dot-anim");
    d.appendChild(el("i")); d.appendChild(el("i")); d.appendChild(el("i"));
    b.appendChild(d);
    msg.appendChild(b);
    inner.appendChild(msg);
    return msg;
  }

  function formatDetail(detail) {
    if (detail === undefined || detail === null) return "";
    if (typeof detail === "string") return detail;
    if (Array.isArray(detail)) {
      // FastAPI validation errors: [{loc, msg, type}]
      return detail.map(function (d) {
        if (d && typeof d === "object" && d.msg) {
          var loc = Array.isArray(d.loc) ? d.loc.join(".") + ": " : "";
          return loc + d.msg;
        }
        return typeof d === "string" ? d : JSON.stringify(d);
      }).join("; ");
    }
    try { return JSON.stringify(detail); } catch (e) { return String(detail); }
  }

  /* Turns a non-OK Response into an Error carrying status + server detail. */
  function httpError(res) {
    return res.text().then(function (body) {
      var detail = "";
      try {
        var j = JSON.parse(body);
        detail = formatDetail(j && typeof j === "object" && "detail" in j ? j.detail : "");
      } catch (e) {
        detail = "";
      }
      var err = new Error(detail || res.statusText || "request failed");
      err.status = res.status;
      err.statusText = res.statusText;
      err.detail = detail;
      return err;
    }, function () {
      var err = new Error(res.statusText || "request failed");
      err.status = res.status;
      err.statusText = res.statusText;
      return err;
    });
  }

  /* The API key for this tab: from #key=… once (then out of the address bar), else what the tab kept. */
  function storedKey() { try { return sessionStorage.getItem(KEY_STORE) || ""; } catch (e) { return ""; } }
  (function takeKeyFromFragment() {
    var m = /(?:^#|&)key=([^&]+)/.exec(window.location.hash);
    if (!m) return;
    try { sessionStorage.setItem(KEY_STORE, decodeURIComponent(m[1])); } catch (e) { /* private mode */ }
    window.history.replaceState(null, "", window.location.pathname + window.location.search);
  })();

  function fetchJSON(url, options, timeoutMs) {
    var key = storedKey();
    if (key) {
      options = Object.assign({}, options);
      options.headers = Object.assign({}, options.headers || {}, { Authorization: "Bearer " + key });
    }
    var ctrl = typeof AbortController !== "undefined" ? new AbortController() : null;
    var timer = null;
    if (ctrl) {
      options = Object.assign({}, options, { signal: ctrl.signal });
      if (timeoutMs) timer = setTimeout(function () { ctrl.abort(); }, timeoutMs);
    }
    return fetch(url, options).then(function (res) {
      if (!res.ok) return httpError(res).then(function (err) { throw err; });
      return res.json();
    }).catch(function (err) {
      if (err && err.name === "AbortError") {
        var t = new Error("请求超时 / request timed out");
        t.timeout = true;
        throw t;
      }
      throw err;
    }).finally(function () {
      if (timer) clearTimeout(timer);
    });
  }

  /* The conversation so far ({role, content}, oldest first): sent with each question so a follow-up
     ("那协助的呢?") is read against it; the server reads at most 20 messages. */
  var history = [];
  var HISTORY_MAX = 20;

  /* The question, the conversation before it, and the collection chosen in the selector (none: every
     collection). */
  function askBody(q) {
    var chosen = collection ? collection.value : "";
    var body = chosen ? { question: q, filters: { collections: [chosen] } } : { question: q };
    if (history.length) body.history = history.slice(-HISTORY_MAX);
    return body;
  }

  function remember(q, data) {
    history.push({ role: "user", content: q }, { role: "assistant", content: str(data.answer).slice(0, 8000) });
    history = history.slice(-HISTORY_MAX);
  }

  function ask(q) {
    hideEmpty();
    addUserMessage(q);
    var pending = addPending();
    scrollToBottom();
    setBusy(true);

    fetchJSON(ASK_URL, {
      method: "POST",
      headers: { "Content-Type": "application/json", "Accept": "application/json" },
      body: JSON.stringify(askBody(q))
    }, ASK_TIMEOUT_MS).then(function (data) {
      pending.remove();
      remember(q, data || {});
      var msg = renderAnswer(data || {}, q);
      inner.appendChild(msg);
      afterInsertAnswer(msg);
      revealMessage(msg);
    }).catch(function (err) {
      pending.remove();
      var msg = renderError(err);
      inner.appendChild(msg);
      scrollToBottom();
    }).finally(function () {
      setBusy(false);
      if (!matchMedia("(pointer: coarse)").matches) input.focus();
    });
  }

  function renderError(err) {
    var msg = el("div", "msg error");
    msg.setAttribute("role", "alert");
    var b = el("div", "bubble");
    b.appendChild(el("div", "error-title", "请求失败 / Request failed"));
    var line;
    if (err && err.status) {
      line = "HTTP " + err.status + (err.statusText ? " " + err.statusText : "");
      if (err.detail) line += " — " + err.detail;
    } else if (err && err.timeout) {
      line = err.message;
    } else {
      line = "网络错误 / network error" + (err && err.message ? ": " + err.message : "");
    }
    b.appendChild(el("div", "error-detail", line));
    if (err && (err.status === 401 || err.status === 403)) {
      b.appendChild(el("div", "error-detail", "此服务需要访问密钥:请用 " + window.location.pathname +
        "#key=您的密钥 打开本页 / This service needs a key: open this page as " + window.location.pathname +
        "#key=YOUR_KEY"));
    }
    msg.appendChild(b);
    return msg;
  }

  /* ---------- answers ---------- */

  // [1]  [1][2]  [1, 2]  [1，2]  【1】
  var MARKER_RE = /[\[【]\s*(\d+(?:\s*[,，、]\s*\d+)*)\s*[\]】]/g;

  function renderAnswerText(container, text, byN) {
    var last = 0;
    var m;
    MARKER_RE.lastIndex = 0;
    while ((m = MARKER_RE.exec(text)) !== null) {
      var nums = m[1].split(/[\s,，、]+/).filter(Boolean).map(Number);
      var known = nums.every(function (n) { return byN.has(n); });
      if (!known) continue; // leave unknown markers as plain text
      if (m.index > last) container.appendChild(document.createTextNode(text.slice(last, m.index)));
      nums.forEach(function (n) {
        var c = byN.get(n);
        var btn = el("button", "cite-marker", "[" + n + "]");
        btn.type = "button";
        btn.setAttribute("data-n", String(n));
        btn.title = [c.doc_title, c.clause_path].filter(Boolean).join(" · ");
        btn.setAttribute("aria-label", "引用 " + n + " / citation " + n);
        container.appendChild(btn);
      });
      last = m.index + m[0].length;
    }
    if (last < text.length) container.appendChild(document.createTextNode(text.slice(last)));
  }

  /* A button that opens another document in the viewer (a newer version, a cited law), not the citation's. */
  function docLink(cls, label, target) {
    var b = el("button", cls, label);
    b.type = "button";
    b.addEventListener("click", function (e) {
      e.stopPropagation();
      openViewer(target, null, 0, b);
    });
    b.addEventListener("keydown", function (e) { e.stopPropagation(); });
    return b;
  }

  function renderCitation(c) {
    var n = c.n;
    var li = el("li", "citation");
    li.setAttribute("data-n", String(n));
    li.tabIndex = 0;
    li.setAttribute("role", "button");
    li.setAttribute("aria-label", "查看原文 / open document: " + str(c.doc_title));

    var head = el("div", "cite-head");
    head.appendChild(el("span", "cite-n", "[" + n + "]"));
    head.appendChild(el("span", "cite-title", str(c.doc_title) || str(c.doc_id) || "未命名文件"));
    li.appendChild(head);

    var metaParts = [];
    if (str(c.doc_number)) metaParts.push(el("span", "cite-docno", str(c.doc_number)));
    if (str(c.issuer)) metaParts.push(el("span", "cite-issuer", str(c.issuer)));
    // a law's date is its version's, shown with its status below
    if (str(c.date) && str(c.date) !== str(c.version_date)) metaParts.push(el("span", "cite-date", str(c.date)));
    // A law's version: "现行有效 · 2018-12-29 版", and whether the index holds a newer one.
    if (str(c.status) || str(c.version_date)) {
      var version = [str(c.status), str(c.version_date) && str(c.version_date) + " 版"].filter(Boolean).join(" · ");
      metaParts.push(el("span", "cite-version" + (str(c.status) === "现行有效" ? "" : " old"), version));
    }
    var newer = c.newer_version && typeof c.newer_version === "object" ? c.newer_version : null;
    if (newer && str(newer.doc_id)) {
      metaParts.push(docLink("cite-newer", "已有新版本" + (str(newer.version_date) ? " " + str(newer.version_date) : ""),
        { doc_id: newer.doc_id, doc_title: newer.title }));
    }
    if (metaParts.length) {
      var meta = el("div", "cite-meta");
      metaParts.forEach(function (p) { meta.appendChild(p); });
      li.appendChild(meta);
    }
    if (str(c.clause_path)) li.appendChild(el("div", "cite-clause", str(c.clause_path)));
    // The documents the cited one refers to (依据《…法》): each opens in the viewer.
    var cites = Array.isArray(c.cites) ? c.cites.filter(function (x) { return x && str(x.doc_id); }) : [];
    if (cites.length) {
      var refs = el("div", "cite-refs", "依据 ");
      cites.slice(0, 6).forEach(function (x) {
        refs.appendChild(docLink("cite-ref", "《" + str(x.title) + "》" + str(x.article),
          { doc_id: x.doc_id, doc_title: x.title, clause_id: x.clause_id }));
      });
      li.appendChild(refs);
    }

    if (str(c.text)) {
      var quote = el("blockquote", "cite-text collapsed", str(c.text));
      li.appendChild(quote);
      var toggle = el("button", "cite-toggle", "展开 / more");
      toggle.type = "button";
      toggle.hidden = true; // shown only if the text actually overflows (see afterInsertAnswer)
      toggle.setAttribute("aria-expanded", "false");
      toggle.addEventListener("click", function (e) {
        e.stopPropagation();
        var collapsed = quote.classList.toggle("collapsed");
        toggle.textContent = collapsed ? "展开 / more" : "收起 / less";
        toggle.setAttribute("aria-expanded", collapsed ? "false" : "true");
      });
      toggle.addEventListener("keydown", function (e) { e.stopPropagation(); });
      li.appendChild(toggle);
    }
    li.appendChild(el("span", "cite-open", "查看原文 ›"));
    return li;
  }

  function renderAnswer(data, question) {
    var refused = !!data.refused;
    var citations = Array.isArray(data.citations) ? data.citations.filter(function (c) {
      return c && typeof c === "object";
    }) : [];
    var byN = new Map();
    citations.forEach(function (c, i) {
      if (typeof c.n !== "number") c.n = i + 1;
      if (!byN.has(c.n)) byN.set(c.n, c);
    });

    var msg = el("div", "msg answer" + (refused ? " refused" : ""));
    var b = el("div", "bubble");
    msg.appendChild(b);

    // a follow-up as the server read it against the conversation
    if (data.resolved_question) b.appendChild(el("div", "resolved-question", "理解为: " + str(data.resolved_question)));
    if (refused) b.appendChild(el("div", "refused-label", "文件中未找到依据 / not found in the documents"));

    var textBox = el("div", "answer-text");
    renderAnswerText(textBox, str(data.answer), byN);
    b.appendChild(textBox);

    if (citations.length) {
      var sec = el("section", "citations");
      sec.appendChild(el("h3", "citations-title",
        refused ? "相关条款 (see also)" : "引用依据 / Sources"));
      var ol = el("ol", "citation-list");
      citations.forEach(function (c) { ol.appendChild(renderCitation(c)); });
      sec.appendChild(ol);
      b.appendChild(sec);
    }

    var foot = el("div", "answer-foot");
    foot.appendChild(renderFeedback(question, data, citations));
    if (typeof data.latency_ms === "number" && isFinite(data.latency_ms)) {
      var secs = data.latency_ms / 1000;
      foot.appendChild(el("div", "latency",
        "用时 " + (secs < 10 ? secs.toFixed(1) : Math.round(secs)) + " s"));
    }
    b.appendChild(foot);

    // Interaction: markers and citations open the viewer.
    msg.addEventListener("click", function (e) {
      var marker = e.target.closest(".cite-marker");
      var cite = marker ? null : e.target.closest(".citation");
      var target = marker || cite;
      if (!target || !msg.contains(target)) return;
      var n = Number(target.getAttribute("data-n"));
      var c = byN.get(n);
      if (!c) return;
      if (marker) flashCitation(msg, n);
      openViewer(c, msg, n, target);
    });
    msg.addEventListener("keydown", function (e) {
      if (e.key !== "Enter" && e.key !== " ") return;
      var cite = e.target.closest && e.target.closest(".citation");
      if (!cite || e.target !== cite) return;
      e.preventDefault();
      cite.click();
    });
    return msg;
  }

  /* ---------- feedback (thumbs up / down) ---------- */

  var SVG_NS = "http://www.w3.org/2000/svg";
  // Static, trusted path data (a thumb); the down icon is the same shape rotated.
  var THUMB_PATH = "M7 10v11M7 10l4-7a2 2 0 0 1 3 1.7V9h5.2a2 2 0 0 1 2 2.3l-1.4 8A2 2 0 0 1 " +
    "17.8 21H7m0-11H4a1 1 0 0 0-1 1v9a1 1 0 0 0 1 1h3";

  function thumbIcon(down) {
    var svg = document.createElementNS(SVG_NS, "svg");
    svg.setAttribute("viewBox", "0 0 24 24");
    svg.setAttribute("aria-hidden", "true");
    svg.setAttribute("focusable", "false");
    if (down) svg.setAttribute("class", "down");
    var path = document.createElementNS(SVG_NS, "path");
    path.setAttribute("d", THUMB_PATH);
    svg.appendChild(path);
    return svg;
  }

  function feedbackCitations(citations) {
    return citations.filter(function (c) { return str(c.doc_id); }).slice(0, 50).map(function (c) {
      return {
        n: typeof c.n === "number" ? c.n : null,
        doc_id: str(c.doc_id).slice(0, 200),
        chunk_id: str(c.chunk_id).slice(0, 300),
        doc_title: str(c.doc_title).slice(0, 300),
        clause_path: str(c.clause_path).slice(0, 500)
      };
    });
  }

  /* "Helpful? [up] [down]" under an answer. Up is sent at once; down first opens a small inline
   * box for an optional comment. Once sent, both buttons stay disabled and "thanks" is shown. */
  function renderFeedback(question, data, citations) {
    var box = el("div", "feedback");
    box.setAttribute("role", "group");
    box.setAttribute("aria-label", "这个回答有帮助吗? / Was this answer helpful?");

    var row = el("div", "feedback-row");
    row.appendChild(el("span", "feedback-label", "有帮助吗? / Helpful?"));
    var up = el("button", "thumb thumb-up");
    var down = el("button", "thumb thumb-down");
    [[up, false, "有帮助 / Helpful (thumbs up)"], [down, true, "没帮助 / Not helpful (thumbs down)"]]
      .forEach(function (spec) {
        var btn = spec[0];
        btn.type = "button";
        btn.title = spec[2];
        btn.setAttribute("aria-label", spec[2]);
        btn.setAttribute("aria-pressed", "false");
        btn.appendChild(thumbIcon(spec[1]));
        row.appendChild(btn);
      });
    var status = el("span", "feedback-status");
    status.setAttribute("role", "status");
    status.setAttribute("aria-live", "polite");
    row.appendChild(status);
    box.appendChild(row);

    var form = el("form", "feedback-form");
    form.hidden = true;
    form.setAttribute("novalidate", "");
    form.id = "fb-form-" + (++feedbackCounter);
    down.setAttribute("aria-controls", form.id);
    down.setAttribute("aria-expanded", "false");
    var commentId = "fb-comment-" + feedbackCounter;
    var label = el("label", "visually-hidden", "哪里不对? (可选) / What was wrong? (optional)");
    label.htmlFor = commentId;
    var comment = el("input", "feedback-comment");
    comment.type = "text";
    comment.id = commentId;
    comment.maxLength = 500;
    comment.placeholder = "哪里不对?(可选) / What was wrong?";
    // Why it was not helpful (optional): the reasons /api/feedback knows.
    var reason = el("select", "feedback-reason");
    reason.setAttribute("aria-label", "原因 (可选) / Reason (optional)");
    [["", "原因(可选) / Reason"], ["错误", "错误 / Wrong"], ["不完整", "不完整 / Incomplete"],
     ["引用不对", "引用不对 / Wrong citation"], ["没回答", "没回答 / Not answered"]].forEach(function (o) {
      var opt = el("option", null, o[1]);
      opt.value = o[0];
      reason.appendChild(opt);
    });
    var send = el("button", "feedback-send", "提交 / Send");
    send.type = "submit";
    var cancel = el("button", "feedback-cancel", "取消 / Cancel");
    cancel.type = "button";
    form.appendChild(label);
    form.appendChild(reason);
    form.appendChild(comment);
    form.appendChild(send);
    form.appendChild(cancel);
    box.appendChild(form);

    var sent = false;
    var sending = false;

    function showForm(on) {
      form.hidden = !on;
      down.setAttribute("aria-expanded", on ? "true" : "false");
    }

    function setStatus(text, kind) {
      status.textContent = text;
      status.className = "feedback-status" + (kind ? " " + kind : "");
    }

    function post(rating, text, why) {
      if (sent || sending) return;
      sending = true;
      up.disabled = down.disabled = send.disabled = cancel.disabled = comment.disabled = reason.disabled = true;
      (rating === "up" ? up : down).setAttribute("aria-pressed", "true");
      setStatus("发送中… / sending", "");
      fetchJSON(FEEDBACK_URL, {
        method: "POST",
        headers: { "Content-Type": "application/json", "Accept": "application/json" },
        body: JSON.stringify({
          question: str(question).slice(0, 2000) || "?",
          answer: str(data.answer).slice(0, 10000),
          rating: rating,
          comment: str(text).trim().slice(0, 2000),
          reason: why || null,
          citations: feedbackCitations(citations),
          refused: !!data.refused,
          log_id: typeof data.log_id === "string" ? data.log_id.slice(0, 64) : null
        })
      }, 30000).then(function () {
        sent = true;
        showForm(false);
        box.classList.add("sent");
        setStatus("谢谢反馈 / Thanks for the feedback", "ok");
      }).catch(function (err) {
        (rating === "up" ? up : down).setAttribute("aria-pressed", "false");
        up.disabled = down.disabled = send.disabled = cancel.disabled = comment.disabled = reason.disabled = false;
        var line = err && err.status ? "HTTP " + err.status : (err && err.message) || "";
        setStatus("发送失败,请重试 / could not send" + (line ? " (" + line + ")" : ""), "error");
      }).finally(function () {
        sending = false;
      });
    }

    up.addEventListener("click", function () {
      showForm(false);
      post("up", "");
    });
    down.addEventListener("click", function () {
      if (!form.hidden) { comment.focus(); return; }
      showForm(true);
      setStatus("", "");
      comment.focus();
    });
    cancel.addEventListener("click", function () {
      showForm(false);
      down.focus();
    });
    form.addEventListener("submit", function (e) {
      e.preventDefault();
      post("down", comment.value, reason.value);
    });
    comment.addEventListener("keydown", function (e) {
      e.stopPropagation(); // Enter submits this small form, not the question composer
      if (e.key === "Escape") { e.preventDefault(); cancel.click(); }
    });
    return box;
  }

  /* Reveal the "more" toggle only when the clamped quote actually overflows. */
  function afterInsertAnswer(msg) {
    Array.prototype.forEach.call(msg.querySelectorAll(".citation"), function (li) {
      var q = li.querySelector(".cite-text");
      var t = li.querySelector(".cite-toggle");
      // Overflowing, or line breaks folded away by the preview: offer "more".
      if (q && t && (q.scrollHeight > q.clientHeight + 2 || /\n\s*\S/.test(q.textContent.trim()))) {
        t.hidden = false;
      }
    });
  }

  function flashCitation(msg, n) {
    var li = msg.querySelector('.citation[data-n="' + n + '"]');
    if (!li) return;
    li.classList.remove("flash");
    void li.offsetWidth; // restart animation
    li.classList.add("flash");
  }

  function setActive(msg, n) {
    Array.prototype.forEach.call(document.querySelectorAll(".citation.active, .cite-marker.active"),
      function (x) { x.classList.remove("active"); });
    if (!msg) return;
    Array.prototype.forEach.call(
      msg.querySelectorAll('.citation[data-n="' + n + '"], .cite-marker[data-n="' + n + '"]'),
      function (x) { x.classList.add("active"); });
  }

  /* ---------- document viewer ---------- */

  function loadDoc(docId) {
    var key = String(docId);
    if (!docCache.has(key)) {
      var p = fetchJSON(DOC_URL + encodeURIComponent(key), {
        headers: { "Accept": "application/json" }
      }, 60000);
      p.catch(function () { docCache.delete(key); }); // don't cache failures
      docCache.set(key, p);
    }
    return docCache.get(key);
  }

  /* The server's offsets are Python str indices (code points); JS strings index
   * UTF-16 units. They differ only if the text has astral chars (e.g. CJK Ext. B). */
  function cpToUnit(text, cp) {
    if (!/[\uD800-\uDBFF]/.test(text)) return cp;
    var unit = 0;
    for (var i = 0; i < cp && unit < text.length; i++) {
      var code = text.charCodeAt(unit);
      unit += code >= 0xD800 && code <= 0xDBFF && unit + 1 < text.length ? 2 : 1;
    }
    return unit;
  }

  /* Decide the [start, end) range to highlight within the document text. */
  function highlightRange(text, c, doc) {
    var len = text.length;
    if (c.start === undefined && str(c.clause_id) && Array.isArray(doc.clauses)) {
      // a linked article: its clause's offsets
      var cl = doc.clauses.filter(function (x) { return x && x.clause_id === c.clause_id; })[0];
      if (cl) c = { start: cl.start, end: cl.end, text: "" };
    }
    var s = Number(c.start), e = Number(c.end);
    var valid = Number.isInteger(s) && Number.isInteger(e) && s >= 0 && e > s;
    if (valid) { s = cpToUnit(text, s); e = cpToUnit(text, e); }
    if (valid && s < len) return [s, Math.min(e, len)];
    // Fallback: locate the quoted text verbatim.
    var q = str(c.text);
    if (q) {
      var i = text.indexOf(q);
      if (i >= 0) return [i, i + q.length];
    }
    return null;
  }

  function clausePathFor(doc, range) {
    if (!range || !Array.isArray(doc.clauses)) return "";
    var best = null;
    doc.clauses.forEach(function (cl) {
      if (cl && cl.start <= range[0] && cl.end >= range[0]) {
        if (!best || (cl.end - cl.start) < (best.end - best.start)) best = cl;
      }
    });
    return best ? str(best.path) : "";
  }

  function showViewer() {
    viewer.hidden = false;
    document.body.classList.add("viewer-open");
  }

  function closeViewer() {
    if (viewer.hidden) return;
    viewerToken++;
    viewer.hidden = true;
    document.body.classList.remove("viewer-open");
    setActive(null);
    if (lastOpener && document.contains(lastOpener)) {
      try { lastOpener.focus({ preventScroll: true }); } catch (e) { /* ignore */ }
    }
    lastOpener = null;
  }

  function clear(node) {
    while (node.firstChild) node.removeChild(node.firstChild);
  }

  function openViewer(c, msg, n, opener) {
    var token = ++viewerToken;
    lastOpener = opener || null;
    setActive(msg, n);
    showViewer();

    viewerTitle.textContent = str(c.doc_title) || "文件原文";
    fillMeta([c.doc_number, c.issuer, c.date]);
    fillClause(n, str(c.clause_path));
    clear(viewerText);
    viewerText.appendChild(el("div", "viewer-status", "加载中… / loading"));
    viewerClose.focus({ preventScroll: true });

    if (!str(c.doc_id)) {
      clear(viewerText);
      viewerText.appendChild(el("div", "viewer-status error", "缺少文件 ID / missing doc_id"));
      return;
    }

    loadDoc(c.doc_id).then(function (doc) {
      if (token !== viewerToken) return;
      renderDoc(doc || {}, c, n);
    }).catch(function (err) {
      if (token !== viewerToken) return;
      clear(viewerText);
      var line = err && err.status
        ? "HTTP " + err.status + (err.detail ? " — " + err.detail : "")
        : (err && err.message) || "";
      viewerText.appendChild(el("div", "viewer-status error",
        "无法加载文件 / could not load document" + (line ? ": " + line : "")));
      // Still show the cited passage so the user is not left empty-handed.
      if (str(c.text)) {
        var q = el("blockquote", "viewer-fallback");
        q.appendChild(el("mark", "highlight", str(c.text)));
        viewerText.appendChild(q);
      }
    });
  }

  function fillMeta(parts) {
    clear(viewerMeta);
    parts.map(str).filter(Boolean)
      .forEach(function (t) { viewerMeta.appendChild(el("span", null, t)); });
  }

  function fillClause(n, path) {
    clear(viewerClause);
    if (!path) return;
    if (n) viewerClause.appendChild(el("span", "viewer-n", "[" + n + "]")); // none for a linked document
    viewerClause.appendChild(document.createTextNode(" " + path));
  }

  /* A line of a table as the readers write them: cells joined by " | " ("| x" when the first cell is
   * empty; a one-cell row of a spreadsheet's table ends in " |"). Two or more such lines in a row are
   * shown as a table. */
  function isTableRow(line) {
    return / \| |^\| | \|$/.test(line);
  }

  /* The document text into `body`: tables as tables, the rest as text; the range [s, e) highlighted
   * (a <mark> in text, whole rows in a table). Returns the first highlighted node, to scroll to. */
  function fillText(body, text, range, n) {
    var lines = text.split("\n");
    var first = null;
    function marked(node) {
      node.setAttribute("data-n", String(n));
      if (!first) first = node;
      return node;
    }
    function addText(s, e) {
      if (!range || e <= range[0] || s >= range[1]) {
        if (e > s) body.appendChild(document.createTextNode(text.slice(s, e)));
        return;
      }
      var a = Math.max(s, range[0]), b = Math.min(e, range[1]);
      if (a > s) body.appendChild(document.createTextNode(text.slice(s, a)));
      body.appendChild(marked(el("mark", "highlight", text.slice(a, b))));
      if (e > b) body.appendChild(document.createTextNode(text.slice(b, e)));
    }
    function addTable(rows, at) {
      var cells = rows.map(function (line) { return line.replace(/ \|$/, "").split("|"); });
      var width = Math.max.apply(null, cells.map(function (r) { return r.length; }));
      var table = el("table", "doc-table");
      cells.forEach(function (row, k) {
        var tr = el("tr");
        row.forEach(function (cell, j) {
          var td = el("td", null, cell.trim());
          if (j === row.length - 1 && row.length < width) td.colSpan = width - j;
          tr.appendChild(td);
        });
        var end = at + rows[k].length;
        if (range && at < range[1] && end > range[0]) {
          tr.className = "highlight";
          marked(tr);
        }
        table.appendChild(tr);
        at = end + 1;
      });
      body.appendChild(table);
    }
    var pos = 0, from = 0, i = 0;
    while (i < lines.length) {
      var j = i, end = pos;
      while (j < lines.length && isTableRow(lines[j])) end += lines[j++].length + 1;
      if (j - i >= 2) {
        addText(from, Math.max(from, pos - 1)); // the line break before a table: the table is a block
        addTable(lines.slice(i, j), pos);
        from = pos = Math.min(end, text.length);
        i = j;
      } else {
        pos += lines[i++].length + 1;
      }
    }
    addText(from, text.length);
    return first;
  }

  function renderDoc(doc, c, n) {
    var text = str(doc.text);
    viewerTitle.textContent = str(doc.title) || str(c.doc_title) || "文件原文";

    fillMeta([doc.doc_number || c.doc_number, doc.issuer || c.issuer, doc.date || c.date]);

    var range = highlightRange(text, c, doc);
    fillClause(n, str(c.clause_path) || clausePathFor(doc, range));

    clear(viewerText);
    var body = el("div", "doc-text");
    var mark = fillText(body, text, range, n);
    viewerText.appendChild(body);
    if (!range && (c.start !== undefined || str(c.clause_id))) { // a linked document may have no passage
      viewerText.insertBefore(
        el("div", "viewer-status", "未能定位引用段落 / passage not located"), body);
    }

    viewerText.scrollTop = 0;
    if (mark) {
      // Scroll inside the panel only (viewer-text is the positioned scroll box).
      requestAnimationFrame(function () {
        // from the boxes, not offsetTop: a table row's offsetTop is relative to its table
        var at = mark.getBoundingClientRect().top - viewerText.getBoundingClientRect().top + viewerText.scrollTop;
        viewerText.scrollTop = Math.max(0, at - Math.max(24, viewerText.clientHeight / 4));
      });
    }
  }

  viewerClose.addEventListener("click", closeViewer);
  document.addEventListener("keydown", function (e) {
    if (e.key === "Escape" && !viewer.hidden) closeViewer();
  });

  /* The selector offers the collections the index holds (学校制度, 国家法律, …), each with its document
     count; the built-in options stay when the list cannot be read (e.g. a key is needed). */
  function loadCollections() {
    if (!collection) return;
    fetchJSON(DOCS_URL, { headers: { Accept: "application/json" } }, 15000).then(function (docs) {
      var counts = {};
      (docs || []).forEach(function (d) { if (d.collection) counts[d.collection] = (counts[d.collection] || 0) + 1; });
      var names = Object.keys(counts).sort();
      if (!names.length) return;
      var chosen = collection.value;
      while (collection.options.length > 1) collection.remove(1);  // keep "全部文件"
      names.forEach(function (name) {
        var option = el("option", "", name + " (" + counts[name] + ")");
        option.value = name;
        collection.appendChild(option);
      });
      if (names.indexOf(chosen) >= 0) collection.value = chosen;
    }).catch(function () { /* keep the built-in options */ });
  }
  loadCollections();

  // While the national law library is being imported (a first `make run` embeds it for minutes: GET /health
  // has laws_import), say that questions the laws decide are answered from the local documents until then.
  var libraryNote = $("library-note");
  var LIBRARY_POLL_MS = 15000;
  function watchLibraryImport() {
    fetchJSON("/health", { headers: { Accept: "application/json" } }, 15000).then(function (health) {
      var job = health && health.laws_import;
      if (job) {
        libraryNote.textContent = "国家法律库导入中:导入完成前,法律问题只能依据本地文件回答。" +
          " The national law library is being imported; until it is done, answers come from local documents only.";
        libraryNote.title = job.message;  // the job's progress ("embedding batch 40 of 139"), in English
        libraryNote.hidden = false;
        setTimeout(watchLibraryImport, LIBRARY_POLL_MS);
      } else if (!libraryNote.hidden) {
        libraryNote.hidden = true;  // done: the laws are searched now, and counted in the collection selector
        loadCollections();
      }
    }).catch(function () { /* the health check failed: say nothing rather than something wrong */ });
  }
  watchLibraryImport();

  // Short placeholder where the long bilingual hint would wrap.
  if (matchMedia("(max-width: 560px)").matches) input.placeholder = "输入问题… (Enter 发送)";
  autoGrow();
  if (!EMBED && !matchMedia("(pointer: coarse)").matches) input.focus();
})();
