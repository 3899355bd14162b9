// Entry: connects to the node, draws the header, and routes #/… to the pages.
import "./style.css";
import { Chain, nodeUrl } from "./api";
import { h, mount } from "./dom";
import { tickCountdowns, type Ctx, type Page } from "./context";
import { marketPage } from "./pages/market";
import { jobPage } from "./pages/job";
import { postPage } from "./pages/post";

const routes: [RegExp, Page][] = [
  [/^#?\/?(?:market)?$/, marketPage("all")],
  [/^#\/providers$/, marketPage("providers")],
  [/^#\/chain$/, marketPage("chain")],
  [/^#\/job\/(\d+)$/, jobPage],
  [/^#\/post$/, postPage],
];

async function start() {
  const url = nodeUrl();
  const status = h("span", { class: "status", id: "conn" }, "connecting");
  const headInfo = h("span", { class: "head", id: "head" }, "");
  const nav = h("nav", null,
    h("a", { href: "#/", "data-nav": "market" }, "Market"),
    h("a", { href: "#/providers", "data-nav": "providers" }, "Providers"),
    h("a", { href: "#/chain", "data-nav": "chain" }, "Chain"),
    h("a", { href: "#/post", "data-nav": "post", class: "cta" }, "Post a job"));
  const main = h("main", { id: "page" });
  const rpcForm = h("form", { class: "rpc", onsubmit: (e: Event) => {
    e.preventDefault();
    const v = (rpcForm.querySelector("input") as HTMLInputElement).value.trim();
    if (v) location.search = `?rpc=${encodeURIComponent(v)}`;
  } }, h("input", { type: "text", value: url, title: "node WebSocket endpoint", size: 22 }));
  mount(document.getElementById("app")!,
    h("header", null, h("a", { href: "#/", class: "brand" }, h("span", { class: "logo" }, "▦"), " Tessera"), nav,
      h("div", { class: "chaininfo" }, status, headInfo, rpcForm)),
    main,
    h("footer", null, "Tessera verifiable-compute market · figures from the chain's storage, events and tessera_* RPC · ",
      h("a", { href: "https://papi.how" }, "polkadot-api")));

  const chain = new Chain(url, (s) => { status.textContent = s; status.dataset.state = s; });
  const ctx: Ctx = { chain };
  chain.onHead((hd) => { headInfo.textContent = `best #${hd.number} · finalized #${hd.finalized}`; headInfo.dataset.best = String(hd.number); });
  await chain.init();
  status.textContent = `${chain.chainName}`;
  status.dataset.state = "connected";
  document.body.dataset.ready = "1";

  let leave: (() => void) | null = null;
  const route = () => {
    leave?.();
    const hash = location.hash || "#/";
    for (const a of nav.querySelectorAll("a")) a.classList.toggle("active", hash === a.getAttribute("href") || (hash === "#/" && a.dataset.nav === "market") || (hash.startsWith("#/job") && a.dataset.nav === "market"));
    for (const [re, page] of routes) {
      const m = hash.match(re);
      if (m) { leave = page(ctx, main, m[1] ?? ""); return; }
    }
    mount(main, h("p", { class: "error" }, `No page ${hash}`));
    leave = null;
  };
  window.addEventListener("hashchange", route);
  route();
  setInterval(() => tickCountdowns(ctx), 1000);
  chain.onHead(() => tickCountdowns(ctx));
}

start().catch((e) => {
  mount(document.getElementById("app")!, h("p", { class: "error" }, `Cannot start: ${e instanceof Error ? e.message : e}`));
});
