// labkit topology: the graphviz SVG of the lab, with clickable interfaces.
// Each interface node is <g id="itf-<namespace>-<name>">; clicking one shows the
// facts the kernel reported for it (model "details"), without a round trip.

const FIELDS = [
  ["kind", "kind"], ["namespace", "namespace"], ["mac", "MAC"], ["mtu", "MTU"], ["state", "state"],
  ["flags", "flags"], ["addresses", "addresses"], ["master", "bridge (master)"], ["stp_state", "STP port state"],
  ["peer", "veth peer"], ["link", "lower device"], ["captured", "packets captured"],
];

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

function render({ model, el }) {
  el.classList.add("labkit-topology");
  const pic = document.createElement("div");
  pic.className = "lk-topo-svg";
  const panel = document.createElement("div");
  panel.className = "lk-topo-details";
  el.append(pic, panel);

  function show(id) {
    panel.replaceChildren();
    for (const g of pic.querySelectorAll("g.node.lk-selected")) g.classList.remove("lk-selected");
    const info = (model.get("details") || {})[id];
    if (!id || !info) {
      const hint = document.createElement("div");
      hint.className = "lk-topo-hint";
      hint.textContent = "Click an interface to see what the kernel says about it.";
      panel.appendChild(hint);
      return;
    }
    const node = pic.querySelector(`g[id="${CSS.escape(id)}"]`);
    if (node) node.classList.add("lk-selected");
    const facts = [];
    for (const [key, label] of FIELDS) {
      const v = text(info[key]);
      if (v !== null) facts.push([label, v]);
    }
    panel.appendChild(table(`${info.namespace}/${info.name}`, facts));
    const extra = Object.entries(info.info || {}).filter(([, v]) => v !== null && v !== "");
    if (extra.length) panel.appendChild(table("kind details", extra.map(([k, v]) => [k, String(v)])));
    const stats = Object.entries(info.stats || {});
    if (stats.length) panel.appendChild(table("counters", stats.map(([k, v]) => [k, String(v)])));
    if ((info.routes || []).length) panel.appendChild(table("routes via this device", info.routes.map((r, i) => [String(i + 1), r])));
    if ((info.neighbours || []).length) panel.appendChild(table("neighbours (ARP/NDP)", info.neighbours.map((r, i) => [String(i + 1), r])));
  }

  function draw() {
    pic.innerHTML = model.get("svg");
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
