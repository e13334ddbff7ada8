// Small DOM helpers for the pages: a table whose cells a test can read
// (data-test on each column), a link, and a select that view() can read.

// rows: objects; cols: [{key, label, format(value, row), href(row), test, wrap}]
export function table(rows, cols, {limit = Infinity, test} = {}) {
  const t = document.createElement("table");
  if (test) t.dataset.test = test;
  const head = t.createTHead().insertRow();
  for (const c of cols) {
    const th = document.createElement("th");
    th.textContent = c.label ?? c.key;
    head.append(th);
  }
  const body = t.createTBody();
  for (const r of rows.slice(0, limit)) {
    const tr = body.insertRow();
    for (const c of cols) {
      const td = tr.insertCell();
      const v = c.format ? c.format(r[c.key], r) : r[c.key];
      const text = v == null ? "" : String(v);
      if (c.href) td.append(link(c.href(r), text));
      else td.textContent = text;
      if (c.test) td.dataset.test = c.test;
      if (c.wrap) td.className = "wrap";
    }
  }
  if (rows.length > limit) {
    const p = document.createElement("p");
    p.textContent = `… and ${rows.length - limit} more`;
    const wrap = document.createElement("div");
    wrap.append(t, p);
    return wrap;
  }
  return t;
}

export function link(href, text) {
  const a = document.createElement("a");
  a.href = href;
  a.textContent = text;
  return a;
}

// A <select> over values, starting at initial (when it is one of them).
export function select(values, {label, initial, format = String, test} = {}) {
  const form = document.createElement("form");
  const l = document.createElement("label");
  l.textContent = label ? `${label} ` : "";
  const s = document.createElement("select");
  if (test) s.dataset.test = test;
  for (const v of values) {
    const o = document.createElement("option");
    o.value = String(v);
    o.textContent = format(v);
    s.append(o);
  }
  if (initial != null && values.map(String).includes(String(initial))) s.value = String(initial);
  l.append(s);
  form.append(l);
  Object.defineProperty(form, "value", {get: () => values[s.selectedIndex]});
  s.addEventListener("change", () => form.dispatchEvent(new Event("input", {bubbles: true})));
  return form;
}

// The value of ?name= in the page's address.
export function param(name) {
  return new URLSearchParams(location.search).get(name);
}

export const fmt = {
  score: (v) => (v == null ? "" : v.toFixed(3)),
  time: (v) => (v == null ? "" : new Date(v).toISOString().replace("T", " ").slice(0, 16)),
  signals: (v) => (v ?? []).join(", ")
};
