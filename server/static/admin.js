/* PolicyQA admin console — plain JS, no dependencies, no external assets (served at /admin).
 *
 * API used (write and console endpoints need the key when the server has one: Authorization: Bearer KEY;
 * without a key they answer this machine only, so the console then works without asking):
 *   GET  /api/jobs, /api/jobs/{id}            access check; job progress of uploads and deletes
 *   GET  /api/documents, /api/documents/{id}  documents with their ingest result; clause tree, records,
 *                                             removed lines
 *   POST /api/documents (multipart), DELETE /api/documents/{id}
 *   POST /api/search {query, top_k, explain: true}   the hit test
 *   GET  /api/feedback; POST /api/eval/drafts {feedback_id}
 *   GET/POST/DELETE /api/curated              approved answers
 *   GET  /api/log, /api/log/export?format=csv|xlsx
 *   GET  /api/eval/report
 * A panel whose endpoint answers 404 (an older server) says so instead of showing anything.
 * All text from the server is inserted with textContent only.
 */
(function () {
  "use strict";

  var KEY_STORE = "policyqa.adminKey";
  var POLL_MS = 400;
  var $ = function (id) { return document.getElementById(id); };

  /* ---------- small helpers ---------- */

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null && text !== "") node.textContent = String(text);
    return node;
  }

  function button(label, className, onClick) {
    var b = el("button", className, label);
    b.type = "button";
    if (onClick) b.addEventListener("click", onClick);
    return b;
  }

  function clear(node) { while (node.firstChild) node.removeChild(node.firstChild); return node; }

  function fmt(v, digits) {
    if (v === null || v === undefined) return "–";
    if (typeof v === "number") return Number.isInteger(v) ? String(v) : v.toFixed(digits === undefined ? 3 : digits);
    return String(v);
  }

  function shortTime(iso) { return iso ? String(iso).replace("T", " ").replace(/\.\d+/, "").replace("Z", "") : ""; }

  function table(headers, rows, className) {
    var t = el("table", className || "grid");
    var thead = el("thead"), tr = el("tr");
    headers.forEach(function (h) { tr.appendChild(el("th", "", h)); });
    thead.appendChild(tr); t.appendChild(thead);
    var tbody = el("tbody");
    rows.forEach(function (cells) {
      var row = el("tr");
      cells.forEach(function (c) {
        var td = el("td");
        if (c instanceof Node) td.appendChild(c); else td.textContent = c === undefined || c === null ? "" : String(c);
        row.appendChild(td);
      });
      tbody.appendChild(row);
    });
    t.appendChild(tbody);
    return t;
  }

  function message(node, text, kind) {
    clear(node).appendChild(el("p", "note " + (kind || ""), text));
  }

  /* ---------- the key and the API ---------- */

  function getKey() { try { return sessionStorage.getItem(KEY_STORE) || ""; } catch (e) { return ""; } }
  function setKey(k) { try { if (k) sessionStorage.setItem(KEY_STORE, k); else sessionStorage.removeItem(KEY_STORE); } catch (e) { /* private mode */ } }

  function headers(extra) {
    var h = extra || {};
    var k = getKey();
    if (k) h.Authorization = "Bearer " + k;
    return h;
  }

  function ApiError(status, detail) { this.status = status; this.detail = detail; }

  function detailText(body, status) {
    if (body && typeof body.detail === "string") return body.detail;
    if (body && Array.isArray(body.detail)) return body.detail.map(function (d) { return d.msg; }).join("; ");
    return "HTTP " + status;
  }

  /* fetch JSON; 401/403 ask for the key; errors become ApiError(status, detail) */
  function api(method, path, body) {
    var init = { method: method, headers: headers({ Accept: "application/json" }), credentials: "same-origin" };
    if (body !== undefined) {
      init.headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    return fetch(path, init).then(function (r) {
      if (r.status === 204) return null;
      return r.json().catch(function () { return null; }).then(function (data) {
        if (r.ok) return data;
        if (r.status === 401 || r.status === 403) askKey(detailText(data, r.status));
        throw new ApiError(r.status, detailText(data, r.status));
      });
    }, function (err) { throw new ApiError(0, "无法连接服务器: " + err.message); });
  }

  function unavailable(err) {
    return err.status === 404 && (err.detail === "Not Found" || err.detail === "HTTP 404");
  }

  function showError(node, err, what) {
    if (unavailable(err)) {
      message(node, what + ":此服务器不提供该功能 (not available on this server)。", "unavailable");
    } else {
      message(node, (err.status ? "错误 " + err.status + ": " : "") + (err.detail || String(err)), "error");
    }
  }

  /* ---------- access ---------- */

  var keyForm = $("key-form"), keyInput = $("key-input"), keyMessage = $("key-message"), accessState = $("access-state");

  function askKey(reason) {
    keyForm.hidden = false;
    keyMessage.textContent = (reason ? reason + " — " : "") + "请输入 API 密钥。密钥只保存在本标签页 (sessionStorage)。";
    accessState.textContent = "需要密钥";
    accessState.className = "bad";
    if (document.activeElement !== keyInput) keyInput.focus();
  }

  function checkAccess() {
    return api("GET", "/api/jobs").then(function () {
      keyForm.hidden = true;
      accessState.textContent = getKey() ? "已授权 (密钥)" : "已授权 (本机,无需密钥)";
      accessState.className = "ok";
      return true;
    }, function () { return false; });
  }

  keyForm.addEventListener("submit", function (e) {
    e.preventDefault();
    setKey(keyInput.value.trim());
    keyInput.value = "";
    checkAccess().then(function (ok) { if (ok) showTab(current); });
  });
  $("key-change").addEventListener("click", function () { askKey(""); });

  /* ---------- tabs ---------- */

  var current = "documents";
  var loaders = {};

  function showTab(name) {
    current = name;
    document.querySelectorAll("#tabs [data-tab]").forEach(function (b) {
      b.setAttribute("aria-selected", b.dataset.tab === name ? "true" : "false");
    });
    document.querySelectorAll(".panel").forEach(function (p) { p.hidden = p.id !== "panel-" + name; });
    if (loaders[name]) loaders[name]();
  }

  document.querySelectorAll("#tabs [data-tab]").forEach(function (b) {
    b.addEventListener("click", function () { showTab(b.dataset.tab); });
  });

  /* ---------- jobs ---------- */

  var JOB_STATUS = { queued: "排队中", running: "处理中", done: "完成", failed: "失败", cancelled: "已取消" };

  function pollJob(id, onUpdate) {
    return new Promise(function (resolve, reject) {
      function tick() {
        api("GET", "/api/jobs/" + encodeURIComponent(id)).then(function (job) {
          onUpdate(job);
          if (job.status === "done" || job.status === "failed") resolve(job);
          else setTimeout(tick, POLL_MS);
        }, reject);
      }
      tick();
    });
  }

  // A queued or running job can be cancelled: a first import of the national laws runs for minutes, and the
  // jobs after it (an upload) wait for it; what it embedded is kept for the next import.
  function jobStatusCell(j) {
    var label = JOB_STATUS[j.status] || j.status;
    if ((j.status !== "queued" && j.status !== "running") || (j.kind !== "upload" && j.kind !== "laws")) return label;
    var cell = el("span", "", label + " ");
    cell.appendChild(button("取消", "small job-cancel", function () {
      api("POST", "/api/jobs/" + encodeURIComponent(j.job_id) + "/cancel").then(loadJobs, function (err) {
        showError($("jobs"), err, "取消任务");
      });
    }));
    return cell;
  }

  // While a job is queued or running the list is read again every few seconds, so its progress ("embedding
  // batch 40 of 139") and its end show without a reload; one timer at a time.
  var JOBS_POLL_MS = 3000;
  var jobsTimer = null;

  function loadJobs() {
    var box = $("jobs");
    clearTimeout(jobsTimer);
    api("GET", "/api/jobs").then(function (jobs) {
      clear(box).appendChild(table(["时间", "类型", "文件", "状态", "说明"], jobs.slice(0, 20).map(function (j) {
        return [shortTime(j.created_at), j.kind, j.doc_id || "", jobStatusCell(j), j.message];
      })));
      var active = jobs.some(function (j) { return j.status === "queued" || j.status === "running"; });
      if (active) jobsTimer = setTimeout(loadJobs, JOBS_POLL_MS);
    }, function (err) { showError(box, err, "任务"); });
  }

  /* ---------- documents ---------- */

  var LIFECYCLE = { "in force": "有效", "abolished": "已废止", "superseded": "已被替代", "not yet effective": "未生效" };
  var replaceInput = el("input");
  replaceInput.type = "file";
  replaceInput.hidden = true;
  replaceInput.id = "replace-file";
  document.body.appendChild(replaceInput);
  var replaceTarget = null;

  function removedTotal(removed) {
    return Object.keys(removed || {}).reduce(function (n, k) { return n + removed[k]; }, 0);
  }

  function baseName(path) { return String(path || "").split("/").pop(); }

  function suffix(name) { var m = /\.[^.]+$/.exec(name); return m ? m[0].toLowerCase() : ""; }

  function loadDocuments() {
    var box = $("doc-groups");
    api("GET", "/api/documents").then(function (docs) {
      var groups = {};
      docs.forEach(function (d) { (groups[d.collection] = groups[d.collection] || []).push(d); });
      clear(box);
      Object.keys(groups).sort().forEach(function (name) {
        var list = groups[name].sort(function (a, b) { return a.title.localeCompare(b.title, "zh"); });
        var section = el("section", "card collection");
        section.dataset.collection = name;
        section.appendChild(el("h2", "", name + " (" + list.length + ")"));
        section.appendChild(table(["文件", "状态", "版本", "条款", "记录", "清除噪声", "来源", ""], list.map(docRow), "grid docs"));
        box.appendChild(section);
      });
      if (!docs.length) message(box, "索引中没有文件。");
    }, function (err) { showError(box, err, "文件"); });
    loadJobs();
  }

  function docRow(d) {
    var open = button(d.title || d.doc_id, "link doc-open", function () { openDocument(d.doc_id); });
    open.dataset.docId = d.doc_id;
    var title = el("div");
    title.appendChild(open);
    title.appendChild(el("div", "muted small", [d.doc_number, d.issuer, d.date].filter(Boolean).join(" · ")));
    var removed = el("span", "", String(removedTotal(d.removed)));
    removed.title = Object.keys(d.removed || {}).map(function (k) { return k + ": " + d.removed[k]; }).join("\n");
    var actions = el("div", "actions");
    if (d.uploaded) {
      actions.appendChild(button("替换新版本", "small replace", function () {
        replaceTarget = d;
        replaceInput.value = "";
        replaceInput.click();
      }));
    }
    var del = button("删除", "small danger delete", function () {
      if (!del.classList.contains("confirm")) {
        del.classList.add("confirm");
        del.textContent = "确认删除?";
        setTimeout(function () { del.classList.remove("confirm"); del.textContent = "删除"; }, 4000);
        return;
      }
      del.disabled = true;
      deleteDocument(d);
    });
    actions.appendChild(del);
    var row = [title, d.status || LIFECYCLE[d.lifecycle] || d.lifecycle, d.version, d.n_clauses, d.n_records, removed,
               d.source || "", actions];
    return row;
  }

  function jobStatus(text, kind) {
    $("upload-progress").hidden = false;
    var s = $("upload-status");
    s.textContent = text;
    s.className = "status " + (kind || "");
  }

  function deleteDocument(d) {
    api("DELETE", "/api/documents/" + encodeURIComponent(d.doc_id)).then(function (job) {
      $("upload-bar").value = 100;
      return pollJob(job.job_id, function (j) { jobStatus("删除 " + d.doc_id + ":" + JOB_STATUS[j.status] + " " + j.message); });
    }).then(function (job) {
      jobStatus("删除 " + d.doc_id + ":" + JOB_STATUS[job.status] + " " + job.message, job.status === "done" ? "ok" : "error");
      if ($("doc-detail").dataset.docId === d.doc_id) $("doc-detail").hidden = true;
      loadDocuments();
    }, function (err) { jobStatus("删除失败:" + err.detail, "error"); loadDocuments(); });
  }

  /* multipart upload with byte progress (XHR), then the job's progress until indexed */
  function uploadFile(file, name, metadata) {
    var form = new FormData();
    form.append("file", file, name);
    if (metadata && Object.keys(metadata).length) form.append("metadata", JSON.stringify(metadata));
    var bar = $("upload-bar");
    bar.value = 0;
    jobStatus("上传 " + name + " …");
    $("upload-send").disabled = true;
    return new Promise(function (resolve, reject) {
      var xhr = new XMLHttpRequest();
      xhr.open("POST", "/api/documents");
      var h = headers({ Accept: "application/json" });
      Object.keys(h).forEach(function (k) { xhr.setRequestHeader(k, h[k]); });
      xhr.upload.addEventListener("progress", function (e) {
        if (e.lengthComputable) {
          bar.value = Math.round(100 * e.loaded / e.total);
          jobStatus("上传 " + name + ":" + bar.value + "%");
        }
      });
      xhr.onload = function () {
        var data = null;
        try { data = JSON.parse(xhr.responseText); } catch (e) { /* not JSON */ }
        if (xhr.status === 202) resolve(data);
        else {
          if (xhr.status === 401 || xhr.status === 403) askKey(detailText(data, xhr.status));
          reject(new ApiError(xhr.status, detailText(data, xhr.status)));
        }
      };
      xhr.onerror = function () { reject(new ApiError(0, "上传中断")); };
      xhr.send(form);
    }).then(function (job) {
      bar.value = 100;
      jobStatus("已上传 " + name + ",索引中…");
      return pollJob(job.job_id, function (j) { jobStatus(name + ":" + JOB_STATUS[j.status] + (j.message ? " — " + j.message : "")); });
    }).then(function (job) {
      jobStatus(name + ":" + JOB_STATUS[job.status] + (job.message ? " — " + job.message : ""), job.status === "done" ? "ok" : "error");
      $("upload-send").disabled = false;
      loadDocuments();
      if (job.status === "done" && $("doc-detail").dataset.docId === job.doc_id) openDocument(job.doc_id);
      return job;
    }, function (err) {
      $("upload-send").disabled = false;
      jobStatus("上传失败:" + err.detail, "error");
    });
  }

  $("upload-form").addEventListener("submit", function (e) {
    e.preventDefault();
    var file = $("upload-file").files[0];
    if (!file) return;
    var metadata = {};
    this.querySelectorAll("details input[name]").forEach(function (i) { if (i.value.trim()) metadata[i.name] = i.value.trim(); });
    uploadFile(file, file.name, metadata);
  });

  replaceInput.addEventListener("change", function () {
    var file = replaceInput.files[0], d = replaceTarget;
    if (!file || !d) return;
    // the upload of the same name (its own suffix for the new format) replaces the indexed version
    var old = baseName(d.source);
    var name = suffix(old) === ".zip" ? old : old.slice(0, old.length - suffix(old).length) + suffix(file.name);
    uploadFile(file, name, null);
  });

  /* ---------- a document's clause tree, records, removed lines ---------- */

  var detail = $("doc-detail");

  function openDocument(id) {
    detail.hidden = false;
    detail.dataset.docId = id;
    $("detail-title").textContent = "加载中…";
    api("GET", "/api/documents/" + encodeURIComponent(id)).then(function (doc) {
      if (detail.dataset.docId !== id) return;
      $("detail-title").textContent = doc.title;
      $("detail-meta").textContent = [doc.doc_number, doc.issuer, doc.date, doc.source, "版本 " + doc.version,
        doc.read_method, doc.n_clauses + " 条款", doc.records.length + " 记录",
        removedTotal(doc.removed) + " 行噪声已清除"].filter(Boolean).join(" · ");
      renderTree(doc);
      renderRecords(doc);
      renderRemoved(doc);
      $("detail-clause-text").hidden = true;
      showSub("tree");
    }, function (err) { $("detail-title").textContent = ""; showError($("detail-tree"), err, "文件"); });
  }

  function showClause(doc, c) {
    var pre = $("detail-clause-text");
    pre.hidden = false;
    clear(pre);
    pre.appendChild(el("strong", "", c.path + "\n"));
    pre.appendChild(document.createTextNode(doc.text.slice(c.start, c.end)));
    document.querySelectorAll("#detail-tree .clause.selected").forEach(function (n) { n.classList.remove("selected"); });
    var node = document.querySelector('#detail-tree .clause[data-clause-id="' + CSS.escape(c.clause_id) + '"]');
    if (node) node.classList.add("selected");
  }

  function renderTree(doc) {
    var box = clear($("detail-tree"));
    var children = {}, byId = {};
    doc.clauses.forEach(function (c) { byId[c.clause_id] = c; });
    doc.clauses.forEach(function (c) {
      var p = c.parent_id && byId[c.parent_id] ? c.parent_id : "";
      (children[p] = children[p] || []).push(c);
    });
    var counts = {};
    doc.records.forEach(function (r) { counts[r.clause_id] = (counts[r.clause_id] || 0) + 1; });
    function build(parent) {
      var ul = el("ul", "tree");
      (children[parent] || []).forEach(function (c) {
        var li = el("li");
        var label = (c.number ? c.number + " " : "") + (c.heading || (c.number ? "" : c.path.split(" › ").pop()));
        var b = button(label.trim() || c.clause_id, "link clause", function () { showClause(doc, c); });
        b.dataset.clauseId = c.clause_id;
        li.appendChild(b);
        if (counts[c.clause_id]) li.appendChild(el("span", "badge", counts[c.clause_id] + " 记录"));
        if (children[c.clause_id]) li.appendChild(build(c.clause_id));
        ul.appendChild(li);
      });
      return ul;
    }
    if (!doc.clauses.length) message(box, "没有识别出条款。");
    else box.appendChild(build(""));
  }

  function renderRecords(doc) {
    var box = clear($("detail-records"));
    if (!doc.records.length) { message(box, "没有责任记录。"); return; }
    var byId = {};
    doc.clauses.forEach(function (c) { byId[c.clause_id] = c; });
    box.appendChild(table(["任务", "牵头", "协助", "完成时限", "条款"], doc.records.map(function (r) {
      var c = byId[r.clause_id];
      var link = c ? button(c.path, "link", function () { showClause(doc, c); }) : r.clause_id;
      return [r.task, r.lead.join("、"), r.assisting.join("、"), r.deadline, link];
    })));
  }

  function renderRemoved(doc) {
    var box = clear($("detail-removed"));
    var counts = Object.keys(doc.removed || {}).map(function (k) { return k + " " + doc.removed[k]; }).join(" · ");
    box.appendChild(el("p", "muted", counts || "清洗没有删除任何行。"));
    if (doc.removed_lines.length) {
      box.appendChild(table(["类型", "删除的行"], doc.removed_lines.map(function (r) { return [r.kind, r.line]; }), "grid removed"));
    }
    if (doc.warnings && doc.warnings.length) {
      box.appendChild(el("h3", "", "读取警告"));
      var ul = el("ul");
      doc.warnings.forEach(function (w) { ul.appendChild(el("li", "", w)); });
      box.appendChild(ul);
    }
  }

  function showSub(name) {
    document.querySelectorAll("#doc-detail [data-sub]").forEach(function (b) {
      b.setAttribute("aria-selected", b.dataset.sub === name ? "true" : "false");
    });
    ["tree", "records", "removed"].forEach(function (n) { $("detail-" + n).hidden = n !== name; });
  }

  document.querySelectorAll("#doc-detail [data-sub]").forEach(function (b) {
    b.addEventListener("click", function () { showSub(b.dataset.sub); });
  });
  $("detail-close").addEventListener("click", function () { detail.hidden = true; detail.dataset.docId = ""; });

  /* ---------- hit test ---------- */

  var SIGNAL_NAMES = { "dense": "dense 名次", "dense:use": "USE 名次", "bm25": "BM25 名次", "doc": "文件名次" };

  function hitTest(query, k) {
    var verdict = $("hits-verdict"), results = $("hits-results");
    message(results, "检索中…");
    clear(verdict);
    return api("POST", "/api/search", { query: query, top_k: k, explain: true }).then(function (body) {
      clear(verdict);
      if (typeof body.answerability === "number") {
        var v = el("div", "card verdict " + (body.refused ? "refused" : "answered"));
        v.appendChild(el("strong", "", body.refused ? "拒答" : "回答"));
        v.appendChild(el("span", "", " 可回答度 " + fmt(body.answerability) + " · 阈值 " + fmt(body.threshold)));
        var meter = el("meter");
        meter.min = 0; meter.max = 1; meter.value = body.answerability; meter.low = body.threshold; meter.optimum = 1;
        v.appendChild(meter);
        verdict.appendChild(v);
      } else {
        verdict.appendChild(el("p", "note", "此服务器的 /api/search 不给出拒答分数 (refusal score not exposed)。"));
      }
      var signals = [], sims = [];
      body.results.forEach(function (h) {
        Object.keys(h.signals || {}).forEach(function (s) { if (signals.indexOf(s) < 0) signals.push(s); });
        Object.keys(h.similarities || {}).forEach(function (s) { if (sims.indexOf(s) < 0) sims.push(s); });
      });
      var head = ["#", "文件 › 条款", "融合分"].concat(signals.map(function (s) { return SIGNAL_NAMES[s] || s; }),
        sims.map(function (s) { return "cos " + s; }), ["条款原文"]);
      clear(results).appendChild(table(head, body.results.map(function (h, i) {
        var where = el("div");
        where.appendChild(el("div", "", h.doc_title));
        where.appendChild(el("div", "muted small", h.clause_path));
        var text = el("details");
        text.appendChild(el("summary", "", h.text.slice(0, 40) + (h.text.length > 40 ? "…" : "")));
        text.appendChild(el("pre", "", h.text));
        return [i + 1, where, fmt(h.score, 4)].concat(
          signals.map(function (s) { return h.signals[s] === undefined ? "–" : h.signals[s]; }),
          sims.map(function (s) { return fmt((h.similarities || {})[s]); }), [text]);
      }), "grid hits"));
      if (!body.results.length) message(results, "没有命中。");
    }, function (err) { showError(results, err, "命中测试"); });
  }

  $("hits-form").addEventListener("submit", function (e) {
    e.preventDefault();
    hitTest($("hits-query").value.trim(), parseInt($("hits-k").value, 10) || 5);
  });

  /* ---------- approve a corrected answer (dialog) ---------- */

  var dialog = $("approve-dialog"), approveSource = "written";

  function openApprove(question, answer, citations, source) {
    approveSource = source;
    $("approve-question").value = question || "";
    $("approve-answer").value = answer || "";
    $("approve-status").textContent = "";
    var box = clear($("approve-citations"));
    var seen = {};
    function add(c, checked) {
      if (!c.chunk_id || seen[c.chunk_id]) return;
      seen[c.chunk_id] = true;
      var label = el("label", "cand");
      var cb = el("input");
      cb.type = "checkbox"; cb.value = c.chunk_id; cb.checked = checked;
      label.appendChild(cb);
      label.appendChild(el("span", "", (c.doc_title || c.doc_id || "") + " › " + (c.clause_path || c.chunk_id)));
      if (c.text) label.appendChild(el("span", "muted small", " " + c.text.slice(0, 60)));
      box.appendChild(label);
    }
    (citations || []).forEach(function (c) { add(c, true); });
    if (question) {
      api("POST", "/api/search", { query: question, top_k: 5 }).then(function (body) {
        body.results.forEach(function (h) { add(h, !(citations || []).length && !box.querySelector("input:checked")); });
      }, function () { /* candidates from the search are a help only */ });
    }
    if (dialog.showModal) dialog.showModal(); else dialog.setAttribute("open", "");
    $("approve-answer").focus();
  }

  $("approve-cancel").addEventListener("click", function () { dialog.close(); });
  $("approve-form").addEventListener("submit", function (e) {
    e.preventDefault();
    var cited = Array.prototype.map.call($("approve-citations").querySelectorAll("input:checked"), function (i) { return i.value; });
    var status = $("approve-status");
    if (!cited.length) { status.textContent = "请至少选一个引用条款。"; status.className = "status error"; return; }
    api("POST", "/api/curated", { question: $("approve-question").value.trim(), answer: $("approve-answer").value.trim(),
      citations: cited, source: approveSource }).then(function (body) {
      status.textContent = "已审定 (" + body.id + ")";
      status.className = "status ok";
      setTimeout(function () { dialog.close(); if (current === "curated") loadCurated(); }, 600);
    }, function (err) {
      status.textContent = unavailable(err) ? "此服务器不提供审定答案 (not available on this server)。" : "审定失败:" + err.detail;
      status.className = "status error";
    });
  });

  /* ---------- feedback ---------- */

  var feedbackRows = [];

  function loadFeedback() {
    var box = $("feedback-list");
    var rating = $("fb-rating").value;
    api("GET", "/api/feedback" + (rating ? "?rating=" + rating : "")).then(function (rows) {
      feedbackRows = rows;
      renderFeedback();
    }, function (err) { showError(box, err, "反馈"); });
  }

  function renderFeedback() {
    var box = clear($("feedback-list"));
    var reason = $("fb-reason").value;
    var rows = feedbackRows.filter(function (r) { return !reason || r.reason === reason; });
    if (!rows.length) { message(box, "没有反馈。"); return; }
    rows.forEach(function (r) {
      var card = el("article", "card feedback " + (r.rating === "down" ? "down" : "up"));
      card.dataset.feedbackId = r.id;
      var head = el("div", "row");
      head.appendChild(el("span", "rating", r.rating === "down" ? "👎" : "👍"));
      if (r.reason) head.appendChild(el("span", "badge reason", r.reason));
      if (r.refused) head.appendChild(el("span", "badge", "拒答"));
      head.appendChild(el("span", "muted small", shortTime(r.at)));
      card.appendChild(head);
      card.appendChild(el("p", "question", r.question));
      var ans = el("details");
      ans.appendChild(el("summary", "", "答案"));
      ans.appendChild(el("pre", "", r.answer));
      card.appendChild(ans);
      if (r.comment) card.appendChild(el("p", "comment", "意见:" + r.comment));
      if (r.citations && r.citations.length) {
        card.appendChild(el("p", "muted small", "引用:" + r.citations.map(function (c) {
          return (c.doc_title || c.doc_id) + (c.clause_path ? " › " + c.clause_path : ""); }).join(";")));
      }
      var actions = el("div", "row actions");
      actions.appendChild(button("审定更正答案", "approve", function () {
        openApprove(r.question, r.answer, r.citations, "feedback");
      }));
      var status = el("span", "status");
      actions.appendChild(button("加入评测草稿", "draft", function () {
        api("POST", "/api/eval/drafts", { feedback_id: r.id }).then(function (d) {
          status.textContent = "已加入评测草稿 " + d.id;
          status.className = "status ok";
        }, function (err) {
          status.textContent = unavailable(err) ? "此服务器不提供评测草稿。" : "失败:" + err.detail;
          status.className = "status error";
        });
      }));
      actions.appendChild(status);
      card.appendChild(actions);
      box.appendChild(card);
    });
  }

  $("fb-rating").addEventListener("change", loadFeedback);
  $("fb-reason").addEventListener("change", renderFeedback);
  $("fb-refresh").addEventListener("click", loadFeedback);

  /* ---------- approved answers ---------- */

  function loadCurated() {
    var box = $("curated-list");
    api("GET", "/api/curated").then(function (rows) {
      clear(box);
      var bar = el("div", "row");
      bar.appendChild(button("新建审定答案", "", function () { openApprove("", "", [], "written"); }));
      box.appendChild(bar);
      if (!rows.length) { box.appendChild(el("p", "note", "还没有审定答案。")); return; }
      box.appendChild(table(["问题", "答案", "引用", "来源", "时间", "状态", ""], rows.map(function (c) {
        var withdraw = button("撤回", "small danger", function () {
          api("DELETE", "/api/curated/" + encodeURIComponent(c.id)).then(loadCurated, function (err) { showError(box, err, "审定答案"); });
        });
        return [c.question, c.answer, c.citations.join("\n"), c.source, shortTime(c.created_at),
                c.stale ? "已失效:" + c.reason : "生效", withdraw];
      }), "grid curated"));
    }, function (err) { showError(box, err, "审定答案"); });
  }

  /* ---------- conversation log ---------- */

  function logParams() {
    var p = new URLSearchParams();
    var q = $("log-q").value.trim(), since = $("log-since").value, refused = $("log-refused").value;
    if (q) p.set("q", q);
    if (since) p.set("since", since);
    if (refused) p.set("refused", refused);
    return p;
  }

  function loadLog() {
    var box = $("log-list");
    var p = logParams();
    p.set("limit", "200");
    api("GET", "/api/log?" + p.toString()).then(function (page) {
      clear(box);
      box.appendChild(el("p", "muted", "共 " + page.total + " 条" + (page.retention_days ? ",保留 " + page.retention_days + " 天" : "")));
      box.appendChild(table(["时间", "问题", "答案", "拒答", "审定", "可回答度", "反馈", ""], page.entries.map(function (e) {
        var ans = el("details");
        ans.appendChild(el("summary", "", e.answer.slice(0, 30) + (e.answer.length > 30 ? "…" : "")));
        ans.appendChild(el("pre", "", e.answer));
        var fb = e.rating ? (e.rating === "down" ? "👎" : "👍") + (e.reason ? " " + e.reason : "") + (e.comment ? " " + e.comment : "") : "";
        return [shortTime(e.at), e.question, ans, e.refused ? "是" : "", e.approved ? "✓" : "", fmt(e.answerability), fb,
                button("审定", "small", function () { openApprove(e.question, e.answer, e.citations, "log"); })];
      }), "grid log"));
    }, function (err) { showError(box, err, "对话记录"); });
  }

  function exportLog(format) {
    var p = logParams();
    p.set("format", format);
    var status = $("log-list");
    fetch("/api/log/export?" + p.toString(), { headers: headers(), credentials: "same-origin" }).then(function (r) {
      if (!r.ok) {
        return r.json().catch(function () { return null; }).then(function (d) { throw new ApiError(r.status, detailText(d, r.status)); });
      }
      return r.blob().then(function (blob) {
        var a = el("a");
        a.href = URL.createObjectURL(blob);
        a.download = "policyqa-log." + format;
        document.body.appendChild(a);
        a.click();
        setTimeout(function () { URL.revokeObjectURL(a.href); a.remove(); }, 1000);
      });
    }).catch(function (err) { showError(status, err, "导出"); });
  }

  $("log-form").addEventListener("submit", function (e) { e.preventDefault(); loadLog(); });
  $("log-export-csv").addEventListener("click", function () { exportLog("csv"); });
  $("log-export-xlsx").addEventListener("click", function () { exportLog("xlsx"); });

  /* ---------- eval report ---------- */

  var METRICS = [["recall@1", "R@1"], ["recall@5", "R@5"], ["mrr", "MRR"], ["answer_hit", "答案命中"],
                 ["evidence_cited", "引用证据"], ["refusal_recall", "拒答召回"], ["false_refusal_rate", "误拒率"],
                 ["latency_p50_ms", "p50 ms"]];

  function metricCells(summary) { return METRICS.map(function (m) { return fmt(summary[m[0]]); }); }

  function loadEval() {
    var box = $("eval-report");
    api("GET", "/api/eval/report").then(function (body) {
      var r = body.latest;
      clear(box);
      var card = el("section", "card");
      card.appendChild(el("h2", "", "最新评测:" + r.set + " · " + r.created));
      card.appendChild(table(["配置", "n"].concat(METRICS.map(function (m) { return m[1]; })), r.results.map(function (x) {
        return [x.system, x.summary.n].concat(metricCells(x.summary));
      }), "grid eval"));
      r.results.forEach(function (x) {
        var groups = Object.keys(x.by_group || {});
        if (!groups.length) return;
        var det = el("details");
        det.appendChild(el("summary", "", x.system + ":分组"));
        det.appendChild(table(["分组", "n"].concat(METRICS.map(function (m) { return m[1]; })), groups.map(function (g) {
          return [g, x.by_group[g].n].concat(metricCells(x.by_group[g]));
        }), "grid"));
        card.appendChild(det);
      });
      box.appendChild(card);
      var sets = el("section", "card");
      sets.appendChild(el("h2", "", "各评测集最新结果"));
      sets.appendChild(table(["评测集", "时间", "n"].concat(METRICS.map(function (m) { return m[1]; })), body.sets.map(function (s) {
        return [s.set, s.created, s.summary.n].concat(metricCells(s.summary));
      }), "grid eval-sets"));
      box.appendChild(sets);
    }, function (err) { showError(box, err, "评测报告"); });
  }

  loaders.documents = loadDocuments;
  loaders.feedback = loadFeedback;
  loaders.curated = loadCurated;
  loaders.log = loadLog;
  loaders.eval = loadEval;

  /* ---------- start ---------- */

  checkAccess().then(function () { showTab(current); });
})();
