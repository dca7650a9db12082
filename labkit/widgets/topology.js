// labkit topology: the graphviz SVG of the lab, with clickable interfaces.
// Each interface node is <g id="itf-<namespace>-<name>">; clicking one shows the
// facts the kernel reported for it (model "details"), without a round trip.
// Every word it writes comes from Python (model "labels", in the learner's language): none is written here.

const FIELDS = ["kind", "namespace", "mac", "mtu", "state", "flags", "addresses", "master", "stp_state", "peer", "link", "captured"];

function cell(row, text, tag = "td") {
  const td = document.createElement(tag);
  td.textContent = text;
  row.appendChild(td);
}

function table(title, pairs) {
  const box = document.createElement("div");
  const h = document.createElement("div");
  h.className = "lk-topo-h";
  h.textContent = title;
  box.appendChild(h);
  const t = document.createElement("table");
  for (const [k, v] of pairs) {
    const tr = document.createElement("tr");
    cell(tr, k, "th");
    cell(tr, v);
    t.appendChild(tr);
  }
  box.appendChild(t);
  return box;
}

function text(value) {
  if (value === null || value === undefined || value === "") return null;
  if (Array.isArray(value)) return value.length ? value.join(", ") : null;
  return String(value);
}

// Graphviz draws labels at 10 pt (13.3 px). Fitted into a notebook's width a big lab would
// shrink them to a few pixels, so the picture is never scaled below MIN_SCALE (labels stay
// about 10 px): a wider picture scrolls instead. The − / + buttons zoom; "fit" goes back.
const MIN_SCALE = 0.75;

function render({ model, el }) {
  el.classList.add("labkit-topology");
  const word = (key) => (model.get("labels") || {})[key] ?? key;
  const bar = document.createElement("div");
  bar.className = "lk-topo-bar";
  const pic = document.createElement("div");
  pic.className = "lk-topo-svg";
  const panel = document.createElement("div");
  panel.className = "lk-topo-details lk-empty";
  el.append(bar, pic, panel);
  let zoom = null; // null: fit the width (but not below MIN_SCALE); a number: that scale
  const label = document.createElement("span");
  label.className = "lk-topo-zoom";
  for (const [text, title, action] of [
    ["−", word("smaller"), () => { zoom = Math.max(0.25, (zoom ?? current()) / 1.25); size(); }],
    ["+", word("larger"), () => { zoom = Math.min(4, (zoom ?? current()) * 1.25); size(); }],
    [word("fit"), word("fit_title"), () => { zoom = null; size(); }],
  ]) {
    const b = document.createElement("button");
    b.textContent = text;
    b.title = title;
    b.addEventListener("click", (e) => { e.preventDefault(); action(); });
    bar.appendChild(b);
  }
  bar.appendChild(label);

  function natural() {
    const svg = pic.querySelector("svg");
    if (!svg) return null;
    const pt = (name) => parseFloat(svg.getAttribute(name) || "0") * (/pt$/.test(svg.getAttribute(name) || "") ? 4 / 3 : 1);
    return { svg, width: pt("width"), height: pt("height") };
  }
  function current() {
    const n = natural();
    if (!n || !n.width) return 1;
    const room = pic.clientWidth || 700;
    return Math.min(1, Math.max(room / n.width, MIN_SCALE));
  }
  function size() {
    const n = natural();
    if (!n || !n.width) return;
    const scale = zoom ?? current();
    n.svg.style.maxWidth = "none";
    n.svg.style.width = `${Math.round(n.width * scale)}px`;
    n.svg.style.height = `${Math.round(n.height * scale)}px`;
    label.textContent = ` ${Math.round(scale * 100)} %` + (zoom === null ? ` ${word("fitted")}` : "");
  }
  if (typeof ResizeObserver !== "undefined") new ResizeObserver(() => { if (zoom === null) size(); }).observe(pic);

  function show(id) {
    panel.replaceChildren();
    for (const g of pic.querySelectorAll("g.node.lk-selected")) g.classList.remove("lk-selected");
    const info = (model.get("details") || {})[id];
    panel.classList.toggle("lk-empty", !id || !info);
    if (!id || !info) {
      const hint = document.createElement("div");
      hint.className = "lk-topo-hint";
      hint.textContent = word("hint");
      panel.appendChild(hint);
      return;
    }
    const node = pic.querySelector(`g[id="${CSS.escape(id)}"]`);
    if (node) node.classList.add("lk-selected");
    const facts = [];
    for (const key of FIELDS) {
      const v = text(info[key]);
      if (v !== null) facts.push([word(key), v]);
    }
    panel.appendChild(table(`${info.namespace}/${info.name}`, facts));
    const extra = Object.entries(info.info || {}).filter(([, v]) => v !== null && v !== "");
    if (extra.length) panel.appendChild(table(word("info"), extra.map(([k, v]) => [k, String(v)])));
    const stats = Object.entries(info.stats || {});
    if (stats.length) panel.appendChild(table(word("stats"), stats.map(([k, v]) => [k, String(v)])));
    if ((info.routes || []).length) panel.appendChild(table(word("routes"), info.routes.map((r, i) => [String(i + 1), r])));
    if ((info.neighbours || []).length) panel.appendChild(table(word("neighbours"), info.neighbours.map((r, i) => [String(i + 1), r])));
  }

  function draw() {
    pic.innerHTML = model.get("svg");
    size();
    for (const g of pic.querySelectorAll('g.node[id^="itf-"]')) {
      g.classList.add("lk-clickable");
      g.addEventListener("click", (event) => {
        event.preventDefault();
        event.stopPropagation();
        model.set("selected", g.id);
        model.save_changes();
        show(g.id);
      });
    }
    show(model.get("selected"));
  }

  model.on("change:svg", draw);
  model.on("change:details", () => show(model.get("selected")));
  model.on("change:selected", () => show(model.get("selected")));
  draw();
}

export default { render };
