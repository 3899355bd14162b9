// What every page gets: the chain connection and a few shared helpers.
import type { Chain } from "./api";
import { duration } from "./format";
import { h } from "./dom";

export type Ctx = { chain: Chain };

/** A page renders into `root` and returns what to do when the user leaves it. */
export type Page = (ctx: Ctx, root: HTMLElement, arg: string) => () => void;

/**
 * A countdown to a deadline block: remaining blocks and about how long that is. It is
 * redrawn every second by `tickCountdowns` from the best block and the slot duration.
 */
export function countdown(deadline: number | null | undefined): HTMLElement {
  if (deadline === null || deadline === undefined) return h("span", null, "—");
  const el = h("span", { class: "countdown", "data-deadline": deadline }, `#${deadline}`);
  if (clock) drawCountdown(el, clock);
  return el;
}

/** The chain whose best block the countdowns count from (set once by main). */
let clock: Chain | null = null;

export function tickCountdowns(ctx: Ctx) {
  clock = ctx.chain;
  for (const el of document.querySelectorAll<HTMLElement>(".countdown")) drawCountdown(el, ctx.chain);
}

function drawCountdown(el: HTMLElement, chain: Chain) {
  const { head, blockMs } = chain;
  const deadline = Number(el.dataset.deadline);
  const blocks = deadline - head.number;
  if (blocks <= 0) {
    el.textContent = `due (block #${deadline})`;
    el.classList.add("due");
    return;
  }
  const secs = (blocks * blockMs - (Date.now() - head.at)) / 1000;
  el.textContent = `${duration(Math.max(0, secs))} · ${blocks} block${blocks === 1 ? "" : "s"} (#${deadline})`;
  el.classList.remove("due");
}

/**
 * Runs `load` now and again at every new best block (one at a time: a block that arrives
 * while a load runs triggers one more afterwards). Returns the unsubscribe function.
 */
export function everyBlock(ctx: Ctx, load: () => Promise<void>): () => void {
  let running = false, again = false, stopped = false;
  const run = async () => {
    if (stopped) return;
    if (running) { again = true; return; }
    running = true;
    try { await load(); } catch (e) { console.error(e); }
    running = false;
    if (again && !stopped) { again = false; void run(); }
  };
  const off = ctx.chain.onHead(() => void run());
  if (!ctx.chain.head.hash) void run();
  return () => { stopped = true; off(); };
}

export function errorBox(e: unknown): HTMLElement {
  return h("div", { class: "error" }, e instanceof Error ? e.message : String(e));
}
