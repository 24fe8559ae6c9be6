// DOM helpers for the console: every piece of text from the app goes in as text, never as HTML.

export function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (key === "text") node.textContent = String(value);
    else if (key === "class") node.className = value;
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else if (key === "dataset") Object.assign(node.dataset, value);
    else node.setAttribute(key, value === true ? "" : String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

export function svg(tag, attrs) {
  const node = document.createElementNS("http://www.w3.org/2000/svg", tag);
  for (const [key, value] of Object.entries(attrs || {})) node.setAttribute(key, String(value));
  return node;
}

// A table: columns are [header, cell(row) -> Node|string, className?]; rows get data-key,
// cells data-col (the header in lower case), so that tests and users can find them.
export function table(id, columns, rows, key) {
  const head = el("tr", {}, columns.map(([title]) => el("th", { scope: "col", text: title })));
  const body = rows.map((row) =>
    el(
      "tr",
      { dataset: key ? { key: key(row) } : {} },
      columns.map(([title, cell, cls]) =>
        el("td", { class: cls, dataset: { col: title.toLowerCase() } }, cell(row)),
      ),
    ),
  );
  if (!rows.length) {
    body.push(el("tr", {}, el("td", { colspan: columns.length, class: "muted", text: "none" })));
  }
  return el("table", { id }, el("thead", {}, head), el("tbody", {}, body));
}

export function badges(items) {
  return (items || []).map((item) => el("span", { class: "badge", text: item }));
}

// Renders a page's content, unless the user has gone to another page meanwhile.
export function show(page, ...nodes) {
  if (document.body.dataset.page !== page) return;
  document.getElementById("main").replaceChildren(...nodes);
}

export function notice(message, kind) {
  const node = document.getElementById("notice");
  node.hidden = !message;
  node.className = kind || "";
  node.textContent = message || "";
}

export function fmt(value) {
  if (value === null || value === undefined) return "—";
  if (typeof value === "string") return value;
  return JSON.stringify(value);
}

export function number(value, digits) {
  if (value === null || value === undefined || Number.isNaN(value)) return "—";
  return value.toFixed(digits === undefined ? 2 : digits);
}
