// The market: live jobs by phase with countdowns, ended jobs with their amounts, providers,
// and chain-wide figures. Redrawn at every best block, no reload.
import type { JobView, ProviderView } from "../api";
import { badge, h, mount, table } from "../dom";
import { countdown, errorBox, everyBlock, type Ctx, type Page } from "../context";
import { exitStatus, LIVE_STATUSES, num, ppm, pricePerFuel, shortHash, tsr, who } from "../format";

function jobLink(id: number) {
  return h("a", { href: `#/job/${id}`, class: "job-link", "data-job": id }, `#${id}`);
}

function replicaSummary(j: JobView): string {
  const l = j.live!;
  const claimed = l.slots.length, committed = l.slots.filter((s) => s.committed).length;
  const revealed = l.slots.filter((s) => s.receipt).length;
  return `${claimed}/${l.replicas} claimed · ${committed} committed · ${revealed} revealed`;
}

export function liveJobsSection(jobs: JobView[]): HTMLElement {
  const live = jobs.filter((j) => j.live);
  const groups = LIVE_STATUSES.map((status) => {
    const js = live.filter((j) => j.status === status);
    return h("div", { class: "phase", "data-phase": status },
      h("h3", null, badge(status), h("span", { class: "count" }, ` ${js.length}`)),
      js.length ? table(["job", "requester", "program", "replicas", "fuel limit", "max price / fuel", "escrow", "phase ends"],
        js.map((j) => [jobLink(j.id), who(j.requester), h("code", null, shortHash(j.program)), replicaSummary(j),
          num(j.live!.fuelLimit), pricePerFuel(j.live!.maxPricePerFuel), tsr(j.live!.escrow), countdown(j.live!.deadline)]),
        { class: "jobs live" }) : null);
  });
  return h("section", { id: "live-jobs" }, h("h2", null, "Live jobs ", h("span", { class: "count" }, `${live.length}`)),
    live.length ? groups : h("p", { class: "empty" }, "No live jobs. Post one."));
}

export function endedJobsSection(jobs: JobView[]): HTMLElement {
  const ended = jobs.filter((j) => !j.live && j.result).reverse();
  return h("section", { id: "ended-jobs" }, h("h2", null, "Ended jobs ", h("span", { class: "count" }, `${ended.length}`)),
    table(["job", "outcome", "requester", "receipt", "paid", "fee", "refunded", "ended at"],
      ended.map((j) => {
        const r = j.result!;
        return [jobLink(j.id), badge(j.status), who(j.requester),
          r.receipt ? `${exitStatus(r.receipt.status)} · ${num(r.receipt.fuelUsed)} fuel` : "—",
          tsr(r.paid), tsr(r.fee), tsr(r.refunded), `#${r.endedAt}`];
      }), { class: "jobs ended" }));
}

function liveness(p: ProviderView, best: number): HTMLElement {
  if (p.unavailable) return h("span", { class: "down" }, p.unavailable);
  return h("span", { class: "up" }, `live · heartbeat #${p.lastHeartbeat} (${Math.max(0, best - p.lastHeartbeat)} blocks ago)`);
}

export function providersSection(providers: ProviderView[], best: number): HTMLElement {
  return h("section", { id: "providers" }, h("h2", null, "Providers ", h("span", { class: "count" }, `${providers.length}`)),
    table(["provider", "stake", "unbonding", "price / fuel", "capacity", "busy", "reputation", "liveness", "completed / faults", "pending slashes"],
      providers.map((p) => [h("span", { class: "provider", title: p.account }, who(p.account)), tsr(p.stake), tsr(p.unbonding),
        pricePerFuel(p.pricePerFuel), String(p.capacity), `${p.liveAssignments}/${p.capacity}`, ppm(p.reputation),
        liveness(p, best), `${p.completed} / ${p.faults}`, h("span", { class: p.pendingSlashes ? "warn" : "" }, String(p.pendingSlashes))]),
      { class: "providers" }));
}

type Figures = Awaited<ReturnType<Ctx["chain"]["figures"]>>;

export function figuresSection(f: Figures, jobs: JobView[], ctx: Ctx): HTMLElement {
  const ended = jobs.filter((j) => j.result);
  const fees = ended.reduce((s, j) => s + BigInt(j.result!.fee), 0n);
  const paid = ended.reduce((s, j) => s + BigInt(j.result!.paid), 0n);
  const slashTotal = f.pendingSlashes.reduce((s, x) => s + x.amount, 0n);
  const eraEnds = (f.eraIndex + 1) * f.eraLength;
  const card = (label: string, value: string | HTMLElement, note: string | HTMLElement = "", key = "") =>
    h("div", { class: "card", "data-figure": key || label }, h("div", { class: "label" }, label), h("div", { class: "value" }, value), h("div", { class: "note" }, note));
  return h("section", { id: "figures" }, h("h2", null, "Chain"),
    h("div", { class: "cards" },
      card("Emission this era", tsr(f.minted), h("span", null, `era ${f.eraIndex} of budget ${tsr(f.budget)}; ends `, countdown(eraEnds)), "emission"),
      card("Emitted ever", tsr(f.totalEmitted), "Market.TotalEmitted", "total-emitted"),
      card("Fees of kept results", tsr(fees), `${ended.length} ended jobs paid ${tsr(paid)} to providers`, "fees"),
      card("Treasury", tsr(f.treasuryFree), `fees and slashes go here (${f.treasury.slice(0, 8)}…)`, "treasury"),
      card("Pending slashes", `${f.pendingSlashes.length} · ${tsr(slashTotal)}`, `${f.slashesEver} slashes scheduled ever`, "slashes"),
      card("Jobs", `${f.liveJobs} live`, `${f.jobsEver} posted ever`, "jobs"),
      card("Limits", `${num(f.maxFuel)} fuel`, `at most ${f.maxReplicas} replicas per job`, "limits"),
      card("Blocks", `#${ctx.chain.head.number}`, `finalized #${ctx.chain.head.finalized} · ${ctx.chain.blockMs / 1000} s per block`, "blocks"),
    ),
    f.pendingSlashes.length ? table(["slash", "provider", "amount"], f.pendingSlashes.map((s) => [`#${s.id}`, who(s.provider), tsr(s.amount)]), { class: "slashes" }) : null);
}

/** `which` picks sections: the market shows all, #/providers and #/chain one each. */
export function marketPage(which: "all" | "providers" | "chain"): Page {
  return (ctx, root) => {
    const body = h("div", { class: "market" }, h("p", { class: "loading" }, "Loading the market…"));
    mount(root, body);
    return everyBlock(ctx, async () => {
      const chain = ctx.chain;
      try {
        const [jobs, providers, figures] = await Promise.all([
          which === "providers" ? Promise.resolve([] as JobView[]) : chain.jobs(),
          which === "chain" ? Promise.resolve([] as ProviderView[]) : chain.providers(),
          which === "providers" ? Promise.resolve(null) : chain.figures(),
        ]);
        const parts: HTMLElement[] = [];
        if (which !== "providers" && figures) parts.push(figuresSection(figures, jobs, ctx));
        if (which === "all") parts.push(liveJobsSection(jobs), endedJobsSection(jobs));
        if (which !== "chain") parts.push(providersSection(providers, chain.head.number));
        mount(body, ...parts, h("p", { class: "updated", "data-block": chain.head.number }, `as of block #${chain.head.number}`));
      } catch (e) {
        mount(body, errorBox(e));
      }
    });
  };
}
