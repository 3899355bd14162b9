// One job: its timeline from the chain's events (with block numbers), each replica's receipt
// (from the live view, or from the Revealed events once the job ended), the verified output
// (download, and a canvas preview when it is a netpbm image such as the Mandelbrot PGM), and
// why it is unmatched while slots stay open.
import type { ChainEvent, JobView, Receipt, Unmatched } from "../api";
import { badge, h, mount, table } from "../dom";
import { countdown, errorBox, everyBlock, type Page } from "../context";
import { bytes, exitStatus, hexToBytes, num, ppm, pricePerFuel, shortHash, tsr, who } from "../format";
import { netpbmCanvas, outputKind } from "../pgm";

type Step = { key: string; label: string; state: "done" | "current" | "pending" | "skipped"; blocks: number[]; note: string | HTMLElement };

const byName = (evs: ChainEvent[], ...names: string[]) => evs.filter((e) => names.includes(e.name));
const blocksOf = (evs: ChainEvent[]) => [...new Set(evs.map((e) => e.block))];
const str = (v: unknown) => (typeof v === "bigint" ? v.toString() : String(v));

function receiptFromEvent(r: Record<string, unknown>): Receipt {
  return { status: exitStatus(r.status), fuelUsed: str(r.fuel_used), outputHash: str(r.output_hash) };
}

function steps(job: JobView, evs: ChainEvent[]): Step[] {
  const live = job.live;
  const status = job.status;
  const order = ["open", "committing", "revealing", "challengeable", "disputed"];
  const at = order.indexOf(status);
  const ended = !live;
  const posted = byName(evs, "JobPosted");
  const claimed = byName(evs, "SlotClaimed");
  const committed = byName(evs, "Committed");
  const revealed = byName(evs, "Revealed");
  const agreed = byName(evs, "ResultAgreed");
  const dispute = byName(evs, "DisputeOpened", "CommitteeDrawn", "Voted", "VoteRevealOpened", "VoteRevealed", "Refereed", "DisputeResolved", "NoMajority");
  const endedEv = byName(evs, "JobEnded");
  const state = (doneIf: boolean, phase: number): Step["state"] =>
    doneIf && (ended || at > phase) ? "done" : !ended && at === phase ? "current" : ended ? (doneIf ? "done" : "skipped") : "pending";
  const deadline = live ? countdown(live.deadline) : "";
  const slotsNote = live ? `${live.slots.length}/${live.replicas} slots` : `${claimed.length} claim${claimed.length === 1 ? "" : "s"}`;
  const agreedEv = agreed[0]?.data as { challenge_until?: number } | undefined;
  const endData = endedEv[0]?.data as { outcome?: { type: string } } | undefined;
  return [
    { key: "posted", label: "Posted", state: "done", blocks: posted.length ? blocksOf(posted) : live ? [live.postedAt] : [],
      note: posted[0] ? `claims close at #${str((posted[0].data as { claim_until: number }).claim_until)}` : "" },
    { key: "claimed", label: "Claimed", state: state(claimed.length > 0 && (!live || live.slots.length === live.replicas), 0), blocks: blocksOf(claimed),
      note: status === "open" ? h("span", null, `${slotsNote}; claims close `, deadline) : slotsNote },
    { key: "committed", label: "Committed", state: state(committed.length > 0, 1), blocks: blocksOf(committed),
      note: status === "committing" ? h("span", null, "commitments due ", deadline) : `${committed.length} commitment${committed.length === 1 ? "" : "s"}` },
    { key: "revealed", label: "Revealed", state: state(revealed.length > 0, 2), blocks: blocksOf(revealed),
      note: status === "revealing" ? h("span", null, "reveals due ", deadline) : `${revealed.length} receipt${revealed.length === 1 ? "" : "s"}` },
    { key: "challenge", label: "Challenge window", state: state(agreed.length > 0, 3), blocks: blocksOf(agreed),
      note: status === "challengeable" ? h("span", null, "closes ", deadline) : agreedEv?.challenge_until !== undefined ? `until #${agreedEv.challenge_until}` : "" },
    { key: "dispute", label: "Dispute", state: dispute.length ? (status === "disputed" ? "current" : "done") : status === "disputed" ? "current" : ended ? "skipped" : "pending",
      blocks: blocksOf(dispute), note: dispute.length ? `${dispute.length} dispute event${dispute.length === 1 ? "" : "s"}` : ended ? "none" : "" },
    { key: "settled", label: ended ? (status === "settled" ? "Settled" : `Ended: ${status}`) : "Settled", state: ended ? "done" : "pending",
      blocks: endedEv.length ? blocksOf(endedEv) : job.result ? [job.result.endedAt] : [], note: endData?.outcome ? endData.outcome.type : "" },
  ];
}

function timeline(job: JobView, evs: ChainEvent[]): HTMLElement {
  return h("ol", { class: "timeline", id: "timeline" }, steps(job, evs).map((s) =>
    h("li", { class: `step ${s.state}`, "data-step": s.key, "data-state": s.state },
      h("div", { class: "dot" }),
      h("div", { class: "label" }, s.label),
      h("div", { class: "blocks" }, s.blocks.length ? s.blocks.map((b) => `#${b}`).join(", ") : s.state === "skipped" ? "—" : ""),
      h("div", { class: "note" }, s.note))));
}

function receiptCells(r: Receipt | null | undefined) {
  if (!r) return ["—", "—", "—"];
  return [exitStatus(r.status), num(r.fuelUsed), h("code", { title: r.outputHash }, shortHash(r.outputHash))];
}

function replicasSection(job: JobView, evs: ChainEvent[], complete: boolean): HTMLElement {
  let rows;
  if (job.live) {
    rows = job.live.slots.map((s) => [who(s.provider), pricePerFuel(s.pricePerFuel), s.committed ? "yes" : "no", ...receiptCells(s.receipt), "—"]);
  } else {
    // Ended: the slots are gone from storage; the events keep who claimed, what each revealed
    // and what each was paid.
    const providers = [...new Set(byName(evs, "SlotClaimed", "Revealed").map((e) => str(e.data.provider)))];
    rows = providers.map((p) => {
      const claim = byName(evs, "SlotClaimed").find((e) => str(e.data.provider) === p);
      const rev = byName(evs, "Revealed").find((e) => str(e.data.provider) === p);
      const paid = byName(evs, "ReplicaPaid").find((e) => str(e.data.provider) === p);
      const committed = byName(evs, "Committed").some((e) => str(e.data.provider) === p);
      return [who(p), claim ? pricePerFuel(str(claim.data.price_per_fuel)) : "—", committed ? "yes" : "no",
        ...receiptCells(rev ? receiptFromEvent(rev.data.receipt as Record<string, unknown>) : null),
        paid ? `${tsr(str(paid.data.payment))} + ${tsr(str(paid.data.reward))} emission` : "—"];
    });
  }
  return h("section", { id: "replicas" }, h("h2", null, "Replicas"),
    table(["provider", "price / fuel", "committed", "exit", "fuel used", "output hash", "paid"], rows, { class: "replicas" }),
    !job.live && !complete ? h("p", { class: "note" }, "Some blocks of this job are older than the node keeps state for; receipts shown are those still readable.") : null);
}

function outputSection(job: JobView): HTMLElement | null {
  const r = job.result;
  if (!r) return null;
  const parts: (HTMLElement | string)[] = [];
  if (r.output) {
    const data = hexToBytes(r.output);
    const kind = outputKind(data);
    const url = URL.createObjectURL(new Blob([data as BlobPart], { type: kind.mime }));
    parts.push(h("p", null, `${kind.label}, ${bytes(data.length)} · `,
      h("a", { href: url, download: `job-${job.id}.${kind.ext}`, id: "download", class: "button" }, `Download job-${job.id}.${kind.ext}`)));
    const canvas = netpbmCanvas(data);
    if (canvas) parts.push(h("div", { class: "preview-frame" }, canvas, h("div", { class: "note" }, `${canvas.width} × ${canvas.height}, drawn from the PGM the chain kept`)));
    else if (kind.mime === "text/plain") parts.push(h("pre", { class: "text-output" }, new TextDecoder().decode(data.subarray(0, 4096))));
  } else {
    parts.push(h("p", { class: "empty" }, r.receipt ? "The output was not kept inline (remote output)." : "No verified output."));
  }
  return h("section", { id: "output" }, h("h2", null, "Verified output"),
    h("div", { class: "cards" },
      h("div", { class: "card" }, h("div", { class: "label" }, "Outcome"), h("div", { class: "value" }, badge(job.status)), h("div", { class: "note" }, `ended at #${r.endedAt}`)),
      h("div", { class: "card" }, h("div", { class: "label" }, "Receipt"), h("div", { class: "value" }, r.receipt ? exitStatus(r.receipt.status) : "—"), h("div", { class: "note" }, r.receipt ? `${num(r.receipt.fuelUsed)} fuel · ${shortHash(r.receipt.outputHash)}` : "")),
      h("div", { class: "card", "data-figure": "paid" }, h("div", { class: "label" }, "Paid to providers"), h("div", { class: "value" }, tsr(r.paid))),
      h("div", { class: "card", "data-figure": "fee" }, h("div", { class: "label" }, "Protocol fee"), h("div", { class: "value" }, tsr(r.fee))),
      h("div", { class: "card", "data-figure": "refund" }, h("div", { class: "label" }, "Refunded"), h("div", { class: "value" }, tsr(r.refunded)), h("div", { class: "note" }, `deposit ${tsr(r.deposit)} returns when pruned`))),
    parts);
}

function unmatchedSection(u: Unmatched | null): HTMLElement | null {
  if (!u || u.openSlots === 0) return null;
  return h("section", { id: "unmatched" }, h("h2", null, "Why it is unmatched"),
    h("p", null, `${u.openSlots} open slot${u.openSlots === 1 ? "" : "s"}; ${u.providers} provider${u.providers === 1 ? "" : "s"} registered, ${u.eligible.length} eligible now`,
      u.claimDeadline ? h("span", null, "; claims close ", countdown(u.claimDeadline)) : ""),
    u.summary.length ? h("ul", { class: "reasons" }, u.summary.map((s) => h("li", { "data-reason": s.reason }, h("b", null, s.reason), ` × ${s.count}`))) : null,
    u.refusals.length ? table(["provider", "reason"], u.refusals.map((r) => [who(r.provider), r.reason])) : null);
}

function termsSection(job: JobView): HTMLElement {
  const l = job.live;
  const rows: [string, string | HTMLElement][] = [
    ["requester", who(job.requester)],
    ["program", h("code", null, job.program)],
  ];
  if (l) rows.push(["fuel limit", num(l.fuelLimit)], ["replicas", String(l.replicas)], ["max price / fuel", pricePerFuel(l.maxPricePerFuel)],
    ["min reputation", ppm(l.minReputation)], ["input", `${bytes(l.inputLen)} · ${shortHash(l.inputHash)}`], ["escrow", tsr(l.escrow)],
    ["deposit", tsr(l.deposit)], ["phase ends", countdown(l.deadline)]);
  return h("dl", { class: "terms" }, rows.map(([k, v]) => [h("dt", null, k), h("dd", null, v)]));
}

function eventLog(evs: ChainEvent[], open: boolean): HTMLElement {
  const detail = (e: ChainEvent) => Object.entries(e.data).filter(([k]) => k !== "job")
    .map(([k, v]) => `${k}: ${typeof v === "object" && v !== null ? JSON.stringify(v, (_, x) => (typeof x === "bigint" ? x.toString() : x)) : str(v)}`).join(" · ");
  return h("details", { class: "events", open }, h("summary", null, `Events (${evs.length})`),
    table(["block", "event", "details"], evs.map((e) => [`#${e.block}`, e.name, h("span", { class: "detail" }, detail(e))])));
}

export const jobPage: Page = (ctx, root, arg) => {
  const id = Number(arg);
  const body = h("div", { class: "job" }, h("p", { class: "loading" }, `Loading job #${id}…`));
  mount(root, body);
  let evs: ChainEvent[] = [];
  let scannedTo = 0;
  let complete = false;
  let done = false; // an ended job with all its events is drawn once
  let blobUrl = "";
  return everyBlock(ctx, async () => {
    const chain = ctx.chain;
    if (done) return;
    try {
      const best = chain.head.number;
      const job = await chain.job(id);
      if (!job) {
        mount(body, h("h1", null, `Job #${id}`), h("p", { class: "empty" }, "No such job: never posted, or ended and its result was pruned."));
        return;
      }
      // Events: the first time from its posting block (live) or back from its end (ended);
      // then only the new blocks, until it has ended.
      const ended = !job.live;
      if (scannedTo === 0) {
        const to = ended ? job.result!.endedAt : best;
        const r = await chain.jobEvents(id, to, job.live ? job.live.postedAt : undefined);
        evs = r.events; complete = r.complete; scannedTo = to;
      } else if (scannedTo < best && !evs.some((e) => e.name === "JobEnded")) {
        const r = await chain.jobEvents(id, best, scannedTo + 1);
        evs = [...evs, ...r.events]; scannedTo = best;
      }
      const unmatched = job.status === "open" ? await chain.whyUnmatched(id) : null;
      const open = body.querySelector("details.events")?.hasAttribute("open") ?? false;
      if (blobUrl) URL.revokeObjectURL(blobUrl);
      const output = outputSection(job);
      blobUrl = output?.querySelector<HTMLAnchorElement>("#download")?.href ?? "";
      mount(body,
        h("div", { class: "job-head" }, h("h1", null, `Job #${id} `), badge(job.status)),
        termsSection(job),
        h("section", null, h("h2", null, "Timeline"), timeline(job, evs)),
        unmatchedSection(unmatched),
        replicasSection(job, evs, complete),
        output,
        eventLog(evs, open));
      done = ended; // an ended job no longer changes (until its result is pruned)
    } catch (e) {
      mount(body, h("h1", null, `Job #${id}`), errorBox(e));
    }
  });
};
