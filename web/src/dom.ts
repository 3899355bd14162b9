// A tiny DOM builder: h("div", {class: "x"}, child, "text").

type Child = Node | string | number | null | undefined | false | Child[];
type Attrs = Record<string, string | number | boolean | EventListener | null | undefined>;

export function h<K extends keyof HTMLElementTagNameMap>(tag: K, attrs?: Attrs | null, ...children: Child[]): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs ?? {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k.startsWith("on") && typeof v === "function") el.addEventListener(k.slice(2), v as EventListener);
    else if (v === true) el.setAttribute(k, "");
    else el.setAttribute(k, String(v));
  }
  append(el, children);
  return el;
}

function append(el: Node, children: Child[]) {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else el.appendChild(typeof c === "object" ? c : document.createTextNode(String(c)));
  }
}

/** Replaces an element's children. */
export function mount(el: Element, ...children: Child[]) {
  el.replaceChildren();
  append(el, children);
}

/** A table from headers and rows. */
export function table(headers: string[], rows: Child[][], attrs?: Attrs): HTMLTableElement {
  return h("table", attrs ?? null,
    h("thead", null, h("tr", null, headers.map((x) => h("th", null, x)))),
    h("tbody", null, rows.length ? rows.map((r) => h("tr", null, r.map((c) => h("td", null, c))))
      : h("tr", null, h("td", { colspan: headers.length, class: "empty" }, "none"))));
}

export function badge(status: string): HTMLSpanElement {
  return h("span", { class: `badge s-${status}`, "data-status": status }, status);
}
