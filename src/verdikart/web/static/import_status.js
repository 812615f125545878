// Polls the import job's status until it is done or failed (same-origin cookie auth).
(function () {
  const el = document.getElementById("status");
  if (!el) return;
  const id = el.dataset.job;
  async function tick() {
    const r = await fetch("/api/exchange/imports/" + id, { credentials: "same-origin" });
    if (!r.ok) return;
    const job = await r.json();
    el.textContent = job.status;
    if (job.rows !== null) document.getElementById("rows").textContent = job.rows + " stream(s) imported.";
    const ul = document.getElementById("problems");
    ul.innerHTML = "";
    for (const p of job.problems) { const li = document.createElement("li"); li.textContent = p; ul.appendChild(li); }
    if (job.status === "done" || job.status === "failed") { document.getElementById("busy").hidden = true; return; }
    setTimeout(tick, 500);
  }
  if (el.textContent !== "done" && el.textContent !== "failed") setTimeout(tick, 300);
})();
