// labkit capture detail: clicking a packet row of the panes above asks Python for Wireshark's
// dissection of that packet (sharkd) and shows it here, under the panes, like Wireshark's middle
// and bottom panes. A "Follow TCP/UDP stream" button in the heading asks for the stream.
// The row itself still opens into scapy's layers (no kernel needed for those).

function render({ model, el }) {
  el.classList.add("lk-detail");
  let pending = "";
  const draw = () => { el.innerHTML = model.get("footer") + (pending || model.get("html")); };
  model.on("change:html", () => { pending = ""; draw(); });
  model.on("change:footer", draw);
  draw();

  const panes = () => el.closest(".labkit-capture");
  // the words come from Python (model "labels"), in the learner's language; {key} and {frame} are filled here
  const label = (name, fields = {}) =>
    (model.get("labels") || {})[name]?.replace(/\{(\w+)\}/g, (m, k) => (k in fields ? fields[k] : m)) ?? "";
  const ask = (kind, key, index, what) => {
    pending = `<div class="lk-detail-wait">${what}…</div>`;
    draw();
    model.set("request", { kind, key, index, seq: Date.now() });
    model.save_changes();
  };
  const onClick = (ev) => {
    const target = ev.target;
    if (!(target instanceof Element)) return;
    const follow = target.closest("[data-lk-follow]");
    if (follow && el.contains(follow)) {
      ask("follow", follow.dataset.key, Number(follow.dataset.index), label("follow"));
      return;
    }
    const summary = target.closest("details.lk-row > summary");
    if (!summary || !model.get("enabled")) return;
    const row = summary.parentElement;
    const mine = panes();
    if (!mine || !mine.contains(row) || row.open || row.dataset.key === undefined) return;  // only when it opens
    ask("dissect", row.dataset.key, Number(row.dataset.index),
      label("dissect", { key: row.dataset.key, frame: String(Number(row.dataset.index) + 1) }));
  };
  // hovering a field lights up its bytes in the hex dump, as Wireshark's bytes pane does
  const light = (ev) => {
    for (const b of el.querySelectorAll(".lk-bytes span.lk-hl")) b.classList.remove("lk-hl");
    const line = ev.target instanceof Element ? ev.target.closest("[data-r]") : null;
    if (!line || !el.contains(line)) return;
    const [from, to] = line.dataset.r.split(",").map(Number);
    for (const b of line.closest(".lk-shark").querySelectorAll(".lk-bytes span[data-b]")) {
      const i = Number(b.dataset.b);
      if (i >= from && i < to) b.classList.add("lk-hl");
    }
  };
  el.addEventListener("mouseover", light);
  document.addEventListener("click", onClick, true);
  return () => { document.removeEventListener("click", onClick, true); el.removeEventListener("mouseover", light); };
}

export default { render };
