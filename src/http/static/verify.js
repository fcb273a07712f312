// The verification page: sends the chosen PDF to /api/v1/verify and shows the verdict in words.
"use strict";
(function () {
  const input = document.getElementById("file");
  const result = document.getElementById("result");
  if (!input || !result) return;
  function show(kind, title, lines) {
    result.className = "verdict " + kind;
    result.replaceChildren();
    const h = document.createElement("h2");
    h.textContent = title;
    result.appendChild(h);
    for (const line of lines) {
      const p = document.createElement("p");
      p.textContent = line;
      result.appendChild(p);
    }
  }
  input.addEventListener("change", async function () {
    const file = input.files && input.files[0];
    if (!file) return;
    show("unknown", "正在核验…", [file.name]);
    try {
      const response = await fetch("/api/v1/verify", { method: "POST", headers: { "Content-Type": "application/pdf" }, body: file });
      const body = await response.json();
      if (!response.ok) {
        show("failed", "无法核验", [body.error ? body.error.message : "服务暂时不可用"]);
        return;
      }
      const registry = body.registry || {};
      const lines = [body.summary || ""];
      if (registry.status === "issued") lines.push("本局登记：已签发，编号 " + registry.serial + (registry.matches_archive ? "，与存档文件完全一致。" : "，但文件与存档不一致。"));
      else if (registry.status === "revoked") lines.push("本局登记：已撤销（" + (registry.revocation_reason || "") + "）。");
      else lines.push("本局登记：未找到，不是本局签发的电子证照。");
      lines.push("文件指纹 SHA-256：" + registry.sha256);
      if (body.indication === "TOTAL-PASSED" && registry.status === "issued" && registry.matches_archive) show("valid", "有效", lines);
      else if (registry.status === "revoked") show("revoked", "已撤销", lines);
      else if (body.indication === "TOTAL-FAILED") show("failed", "无效：签名核验失败", lines);
      else show("indeterminate", "无法确认", lines);
    } catch (error) {
      show("failed", "无法核验", ["网络错误，请稍后再试。"]);
    }
  });
})();
