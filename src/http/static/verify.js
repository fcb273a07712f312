// The public pages' behaviour: on /verify, send the chosen PDF to /api/v1/verify and say what the
// answer means in plain words; on every page, the fingerprint's copy button.
// Text from the server is only ever set with textContent, never parsed as HTML.
"use strict";
(function () {
  const BEIJING_OFFSET_MS = 8 * 3600 * 1000;

  // What each verdict looks like and says first; the details follow in `explain`.
  const VERDICTS = {
    valid: { tone: "valid", mark: "✓", title: "证照有效" },
    revoked: { tone: "revoked", mark: "✕", title: "证照已撤销" },
    failed: { tone: "revoked", mark: "✕", title: "无效：印章核验未通过" },
    altered: { tone: "warning", mark: "!", title: "与存档原件不一致" },
    uncertain: { tone: "warning", mark: "?", title: "无法确认是否有效" },
    foreign: { tone: "warning", mark: "?", title: "不是本局签发的证照" },
    unsigned: { tone: "warning", mark: "?", title: "没有电子印章" },
    unreadable: { tone: "neutral", mark: "!", title: "无法读取该文件" },
    too_large: { tone: "neutral", mark: "!", title: "文件过大" },
    busy: { tone: "neutral", mark: "!", title: "请求过于频繁" },
    error: { tone: "neutral", mark: "!", title: "暂时无法核验" },
  };

  function element(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function beijingTime(rfc3339, withTime) {
    const ms = Date.parse(rfc3339 || "");
    if (Number.isNaN(ms)) return "";
    const t = new Date(ms + BEIJING_OFFSET_MS);
    const date = t.getUTCFullYear() + "年" + (t.getUTCMonth() + 1) + "月" + t.getUTCDate() + "日";
    if (!withTime) return date;
    const pad = (n) => String(n).padStart(2, "0");
    return date + " " + pad(t.getUTCHours()) + ":" + pad(t.getUTCMinutes()) + "（北京时间）";
  }

  // The organisation named in an RFC 4514 subject ("C=CN, O=某局, CN=某局专用章").
  function organisation(subject) {
    if (!subject) return "";
    const parts = subject.split(/,\s*/);
    for (const name of ["O=", "CN="]) {
      const part = parts.find((p) => p.startsWith(name));
      if (part) return part.slice(name.length);
    }
    return subject;
  }

  // The verdict of a 200 answer: the registry's view first, then the signatures'.
  function judge(report) {
    const registry = report.registry || {};
    const signatures = Array.isArray(report.signatures) ? report.signatures : [];
    const passed = report.indication === "TOTAL-PASSED";
    const failed = report.indication === "TOTAL-FAILED";
    if (registry.status === "revoked") return "revoked";
    if (registry.status === "issued") {
      if (failed) return "failed";
      if (!passed) return "uncertain";
      return registry.matches_archive ? "valid" : "altered";
    }
    if (signatures.length === 0) return "unsigned";
    return "foreign";
  }

  function changedAfterSealing(report) {
    const signatures = Array.isArray(report.signatures) ? report.signatures : [];
    return signatures.some((s) => s.sub_indication === "HASH_FAILURE" || s.sub_indication === "SIG_CONSTRAINTS_FAILURE");
  }

  // Plain-words lines for a verdict of a 200 answer.
  function explain(verdict, report) {
    switch (verdict) {
      case "valid":
        return ["这是本局签发的电子证照：电子印章完好，文件与本局存档的原件完全一致，证照目前有效。"];
      case "revoked":
        return ["这份证照已被签发机关撤销，不能再作为有效证照使用。", "撤销的时间和原因见下方。"];
      case "failed":
        return [
          changedAfterSealing(report)
            ? "这份文件在盖章之后被改动过，电子印章已不再对应文件内容，不能作为有效证照使用。"
            : "文件上的电子印章已损坏或不完整，无法证明文件出自签发机关，不能作为有效证照使用。",
          "文件上的印章指向本局登记的下列证照；点击证照编号可查看它的登记状态。",
        ];
      case "altered":
        return [
          "电子印章本身完好，但这份文件与本局存档的原件不完全相同：签发之后被追加过内容（例如批注或其他签名）。请以本局存档的原件为准。",
          "文件上的印章指向本局登记的下列证照。",
        ];
      case "uncertain":
        return ["本局登记有这份证照，但暂时无法确认文件上的电子印章是否有效（例如印章证书已过期）。请联系签发机关核实。"];
      case "foreign": {
        const lines = ["本局没有这份文件的登记记录，文件上的电子印章也不是本局的印章。本页面只能核验本局签发的电子证照；其他机关签发的证照，请到签发机关核验。"];
        const signers = (report.signatures || []).map((s) => organisation(s.signer)).filter((s) => s);
        if (signers.length > 0) lines.push("文件中的签章者：" + Array.from(new Set(signers)).join("、"));
        return lines;
      }
      case "unsigned":
        return ["这份PDF文件上没有电子印章，不是本局签发的电子证照。"];
      default:
        return [];
    }
  }

  // Facts of the registry entry the file points to, as label/value pairs.
  function facts(report) {
    const registry = report.registry || {};
    const rows = [];
    if (registry.template) rows.push(["证照类型", registry.template]);
    if (registry.serial) rows.push(["证照编号", registry.serial, "/verify/" + encodeURIComponent(registry.serial)]);
    if (registry.issued_at) rows.push(["签发日期", beijingTime(registry.issued_at, false)]);
    if (registry.status === "revoked") {
      rows.push(["撤销时间", beijingTime(registry.revoked_at, true)]);
      rows.push(["撤销原因", registry.revocation_reason || "未说明"]);
    }
    return rows;
  }

  // The verdict of an error answer (4xx/5xx with the API's error body).
  function judgeError(status, body) {
    const code = body && body.error ? body.error.code : "";
    if (code === "verify.unreadable") return ["unreadable", ["这不是可以核验的PDF文件：可能不是PDF、已损坏或被加密。请上传证照的PDF原件。"]];
    if (code === "verify.timeout") return ["unreadable", ["这份文件过于复杂，无法在限定时间内完成核验。"]];
    if (code === "verify.empty") return ["unreadable", ["文件是空的，请重新选择。"]];
    if (status === 413 || code === "verify.too_large") return ["too_large", ["文件超过了大小限制，请上传证照的PDF原件。"]];
    if (status === 429) return ["busy", ["核验次数过多，请稍等一分钟后再试。"]];
    if (status === 503) return ["error", ["核验服务繁忙，请稍后再试。"]];
    const lines = ["核验没有完成，请稍后再试。"];
    if (body && body.error && body.error.request_id) lines.push("如需咨询，请提供请求编号：" + body.error.request_id);
    return ["error", lines];
  }

  function fingerprintBlock(sha256) {
    const wrap = element("div", "fingerprint");
    const code = element("code", "hex", sha256);
    code.setAttribute("translate", "no");
    wrap.appendChild(code);
    wrap.appendChild(copyButton(code));
    return wrap;
  }

  function show(result, verdict, lines, rows) {
    const look = VERDICTS[verdict] || VERDICTS.error;
    result.className = "verdict " + look.tone;
    result.dataset.verdict = verdict;
    result.replaceChildren();
    const heading = element("h2");
    const mark = element("span", "mark", look.mark);
    mark.setAttribute("aria-hidden", "true");
    heading.append(mark, look.title);
    result.appendChild(heading);
    for (const line of lines) if (line) result.appendChild(element("p", "", line));
    const list = element("dl", "facts compact");
    for (const [label, value, href] of rows) {
      const row = element("div");
      row.appendChild(element("dt", "", label));
      const cell = element("dd");
      if (value instanceof Node) cell.appendChild(value);
      else if (href) {
        const link = element("a", "", value);
        link.href = href;
        cell.appendChild(link);
      } else cell.textContent = value;
      row.appendChild(cell);
      list.appendChild(row);
    }
    if (rows.length > 0) result.appendChild(list);
    result.hidden = false;
    result.scrollIntoView({ block: "nearest" });
  }

  async function verifyFile(file, result, maxBytes) {
    const named = [["文件", file.name || "（未命名）"]];
    if (maxBytes > 0 && file.size > maxBytes) {
      show(result, "too_large", ["只能核验不超过 " + Math.floor(maxBytes / 1048576) + " MB 的PDF文件。"], named);
      return;
    }
    result.className = "verdict pending";
    result.dataset.verdict = "pending";
    result.replaceChildren(element("h2", "", "正在核验…"), element("p", "", file.name || ""));
    result.hidden = false;
    let response;
    let body = null;
    try {
      response = await fetch("/api/v1/verify", { method: "POST", headers: { "Content-Type": "application/pdf" }, body: file });
      body = await response.json().catch(() => null);
    } catch (error) {
      show(result, "error", ["网络连接失败，请检查网络后再试。"], named);
      return;
    }
    if (!response.ok || !body) {
      const [verdict, lines] = judgeError(response.status, body);
      show(result, verdict, lines, named);
      return;
    }
    const verdict = judge(body);
    const rows = named.concat(facts(body));
    if (body.registry && body.registry.sha256) rows.push(["文件指纹", fingerprintBlock(body.registry.sha256)]);
    show(result, verdict, explain(verdict, body), rows);
  }

  function copyButton(source) {
    const button = element("button", "copy", "复制指纹");
    button.type = "button";
    button.addEventListener("click", async function () {
      const text = source.textContent || "";
      try {
        await navigator.clipboard.writeText(text);
        button.textContent = "已复制";
      } catch (error) {
        // No clipboard access (plain http, old browser): select it for the user to copy.
        const range = document.createRange();
        range.selectNodeContents(source);
        const selection = window.getSelection();
        selection.removeAllRanges();
        selection.addRange(range);
        button.textContent = "已选中，请长按或右键复制";
      }
    });
    return button;
  }

  function setUpUpload() {
    const form = document.getElementById("verify-form");
    const input = document.getElementById("file");
    const drop = document.getElementById("drop");
    const result = document.getElementById("result");
    if (!form || !input || !drop || !result) return;
    const maxBytes = Number(form.dataset.maxBytes) || 0;
    form.hidden = false;
    form.addEventListener("submit", (event) => event.preventDefault());
    const check = function (file) {
      verifyFile(file, result, maxBytes).finally(function () {
        input.value = "";
        const title = drop.querySelector(".drop-title");
        if (title) title.textContent = "核验另一份文件";
      });
    };
    input.addEventListener("change", function () {
      const file = input.files && input.files[0];
      if (file) check(file);
    });
    drop.addEventListener("dragover", function (event) {
      event.preventDefault();
      drop.classList.add("dragging");
    });
    drop.addEventListener("dragleave", () => drop.classList.remove("dragging"));
    drop.addEventListener("drop", function (event) {
      event.preventDefault();
      drop.classList.remove("dragging");
      const file = event.dataTransfer && event.dataTransfer.files[0];
      if (file) check(file);
    });
  }

  function setUpCopyButtons() {
    for (const button of document.querySelectorAll("button[data-copy]")) {
      const source = document.getElementById(button.dataset.copy);
      if (!source) continue;
      button.replaceWith(copyButton(source));
    }
  }

  setUpUpload();
  setUpCopyButtons();
})();
