// Post a job: pick a program file (uploaded with Programs.upload_program unless the chain has
// it) or an id, set input, fuel, replicas and price, see the chain's quote (tessera_quoteJob),
// then sign Market.post_job with a dev account or an extension's and follow the job.
import { Blake2256 } from "@polkadot-api/substrate-bindings";
import { RpcCallError, type QuoteParams, type QuoteView } from "../api";
import { h, mount } from "../dom";
import type { Page, Ctx } from "../context";
import { bytes, bytesToHex, num, parseTsr, pricePerFuel, tsr, who } from "../format";
import { DEV_ACCOUNTS, devAccount, extensionAccounts, hasExtensions, type Account } from "../signers";

type Form = {
  account: HTMLSelectElement; file: HTMLInputElement; programId: HTMLInputElement; input: HTMLTextAreaElement; inputFile: HTMLInputElement;
  fuel: HTMLInputElement; replicas: HTMLInputElement; price: HTMLInputElement; claim: HTMLInputElement; exec: HTMLInputElement;
  window: HTMLInputElement; submit: HTMLButtonElement; quote: HTMLElement; program: HTMLElement; errors: HTMLElement; log: HTMLElement;
};

type Checked = {
  errors: { name: string; doc: string }[];
  program?: { id: string; code?: Uint8Array; onChain: boolean };
  input: Uint8Array;
  quote?: QuoteView;
  terms?: { fuel: bigint; replicas: number; price: bigint; claim: number; exec: number; window: number };
};

const field = (label: string, control: HTMLElement, hint = "") =>
  h("label", { class: "field" }, h("span", { class: "label" }, label), control, hint ? h("span", { class: "hint" }, hint) : null);

/** Reads the form and asks the chain what it would say; nothing is signed here. */
async function check(ctx: Ctx, f: Form, code: Uint8Array | null, inputFile: Uint8Array | null): Promise<Checked> {
  const chain = ctx.chain;
  const errors: Checked["errors"] = [];
  const named = async (name: string) => errors.push({ name, doc: await chain.errorDoc(name) });
  const local = (text: string) => errors.push({ name: "", doc: text });
  const input = inputFile ?? new TextEncoder().encode(f.input.value);
  const out: Checked = { errors, input };

  // The program: a file (its id is blake2-256 of the code) or an id typed in.
  let id = "";
  if (code) id = bytesToHex(Blake2256(code));
  else if (f.programId.value.trim()) {
    id = f.programId.value.trim().toLowerCase();
    if (!/^0x[0-9a-f]{64}$/.test(id)) { local("a program id is 0x and 64 hex digits"); id = ""; }
  }
  if (id) {
    const onChain = await chain.programExists(id);
    out.program = { id, code: code ?? undefined, onChain };
    if (!onChain && !code) await named("Market::ProgramNotFound");
  } else if (!errors.length) {
    await named("Market::ProgramNotFound");
  }

  // The terms, then the chain's quote for them (error code 2 names the market's error).
  const int = (el: HTMLInputElement, what: string): bigint | null => {
    const t = el.value.replace(/[_,\s]/g, "");
    if (!/^\d+$/.test(t)) { local(`${what} must be a whole number`); return null; }
    return BigInt(t);
  };
  const fuel = int(f.fuel, "fuel"), replicas = int(f.replicas, "replicas");
  const claim = int(f.claim, "claim timeout"), exec = int(f.exec, "execution timeout"), window = int(f.window, "challenge window");
  let price: bigint | null = null;
  try { price = parseTsr(f.price.value); } catch (e) { local((e as Error).message); }
  if (fuel === null || replicas === null || price === null || claim === null || exec === null || window === null) return out;
  out.terms = { fuel, replicas: Number(replicas), price, claim: Number(claim), exec: Number(exec), window: Number(window) };
  const params: QuoteParams = {
    fuelLimit: Number(fuel), replicas: Number(replicas), maxPricePerFuel: price.toString(),
    input: { inline: input.length }, maxOutputLen: 64 * 1024,
  };
  try {
    out.quote = await chain.quote(params);
  } catch (e) {
    if (e instanceof RpcCallError && e.code === 2) await named(e.message);
    else local(`quote failed: ${(e as Error).message}`);
  }
  return out;
}

function quoteView(q: QuoteView | undefined): HTMLElement {
  if (!q) return h("p", { class: "empty" }, "No quote.");
  const rows: [string, string][] = [
    ["per replica at most", tsr(q.perReplicaMax)], ["all replicas at most", tsr(q.paymentMax)],
    ["protocol fee at most", tsr(q.protocolFeeMax)], ["escrow held", `${tsr(q.escrow)} (unused part refunded)`],
    ["storage deposit", `${tsr(q.deposit)} (returned when pruned)`], ["held in all", tsr(q.totalHeld)],
    ["providers that could take it now", `${q.eligibleProviders}${q.lowestPricePerFuel ? ` (lowest price ${pricePerFuel(q.lowestPricePerFuel)} / fuel)` : ""}`],
  ];
  return h("dl", { class: "terms quote-terms", "data-eligible": q.eligibleProviders }, rows.map(([k, v]) => [h("dt", null, k), h("dd", null, v)]));
}

function errorsView(c: Checked): HTMLElement | null {
  if (!c.errors.length) return null;
  return h("div", { class: "error chain-error", id: "post-error" }, c.errors.map((e) =>
    h("div", { "data-error": e.name || "local" }, e.name ? h("b", null, e.name) : null, e.name && e.doc ? ` — ${e.doc}` : "", !e.name ? e.doc : "")));
}

function dispatchErrorName(err: unknown): string {
  const e = err as { type?: string; value?: { type?: string; value?: { type?: string } } };
  if (e?.type === "Module" && e.value?.type) return `${e.value.type}::${e.value.value?.type ?? "?"}`;
  return e?.type ? `${e.type}${e.value?.type ? "::" + e.value.type : ""}` : JSON.stringify(err);
}

type Included = { block: number; events: { type: string; value: { type: string; value: Record<string, unknown> } }[] };

/** Signs and submits; resolves once the transaction is in a best block and succeeded. */
function submit(tx: { signSubmitAndWatch: (s: Account["signer"]) => { subscribe: (o: object) => { unsubscribe(): void } } }, account: Account, log: (s: string) => void): Promise<Included> {
  return new Promise((resolve, reject) => {
    const sub = tx.signSubmitAndWatch(account.signer).subscribe({
      next: (ev: { type: string; txHash?: string; found?: boolean; ok?: boolean; block?: { number: number }; events?: Included["events"]; dispatchError?: unknown }) => {
        if (ev.type === "signed") log(`signed by ${who(account.address)}: ${ev.txHash}`);
        else if (ev.type === "broadcasted") log("broadcast");
        else if (ev.type === "txBestBlocksState" && ev.found) {
          sub.unsubscribe();
          if (ev.ok) { log(`in block #${ev.block!.number}`); resolve({ block: ev.block!.number, events: ev.events ?? [] }); }
          else reject(new Error(dispatchErrorName(ev.dispatchError)));
        }
      },
      error: (e: unknown) => reject(e instanceof Error ? e : new Error(String(e))),
    });
  });
}

export const postPage: Page = (ctx, root) => {
  const chain = ctx.chain;
  const num_ = (value: string, attrs: Record<string, string> = {}) => h("input", { type: "text", inputmode: "numeric", value, ...attrs });
  const f: Form = {
    account: h("select", { id: "account" }),
    file: h("input", { type: "file", id: "program-file", accept: ".wasm,application/wasm" }),
    programId: h("input", { type: "text", id: "program-id", placeholder: "0x… (a program already on chain)" }),
    input: h("textarea", { id: "input-text", rows: 2, placeholder: "inline input (text); empty for the Mandelbrot demo" }),
    inputFile: h("input", { type: "file", id: "input-file" }),
    fuel: num_("2000000000", { id: "fuel" }),
    replicas: num_("1", { id: "replicas" }),
    price: h("input", { type: "text", id: "price", value: "0.000000000001" }),
    claim: num_("20", { id: "claim-timeout" }),
    exec: num_("20", { id: "execution-timeout" }),
    window: num_("10", { id: "challenge-window" }),
    submit: h("button", { type: "submit", id: "submit", class: "primary" }, "Sign and post"),
    quote: h("div", { id: "quote" }, h("p", { class: "empty" }, "…")),
    program: h("div", { id: "program-status", class: "note" }),
    errors: h("div", { id: "errors" }),
    log: h("ol", { id: "tx-log", class: "log" }),
  };
  let accounts: Account[] = [];
  let code: Uint8Array | null = null;
  let inputFile: Uint8Array | null = null;
  let last: Checked | null = null;
  let seq = 0;
  let busy = false;

  const fillAccounts = () => {
    mount(f.account, accounts.map((a, i) => h("option", { value: i }, `${a.label} · ${a.address.slice(0, 8)}…`)));
  };
  if (chain.isDev) accounts = DEV_ACCOUNTS.map((n) => devAccount(n, chain.ss58));
  fillAccounts();
  const connectExt = h("button", { type: "button", id: "connect-extension", onclick: async () => {
    const ext = await extensionAccounts();
    accounts = [...ext, ...accounts];
    fillAccounts();
    connectExt.textContent = ext.length ? `${ext.length} extension account(s) added` : "no extension account";
  } }, hasExtensions() ? "Use extension accounts" : "No signer extension found");

  const refresh = async () => {
    const mine = ++seq;
    const c = await check(ctx, f, code, inputFile);
    if (mine !== seq) return; // a newer edit is being checked
    last = c;
    mount(f.quote, quoteView(c.quote));
    mount(f.errors, errorsView(c));
    mount(f.program, c.program
      ? h("span", { "data-on-chain": String(c.program.onChain) }, h("code", null, c.program.id), c.program.onChain ? " — already on chain, will not be uploaded again"
        : c.program.code ? ` — not on chain yet: Programs.upload_program first (${bytes(c.program.code.length)})` : "")
      : "");
    f.submit.disabled = busy || c.errors.length > 0 || !accounts.length;
  };
  let timer = 0;
  const later = () => { clearTimeout(timer); timer = window.setTimeout(() => void refresh(), 250); };
  for (const el of [f.programId, f.input, f.fuel, f.replicas, f.price, f.claim, f.exec, f.window]) el.addEventListener("input", later);
  f.file.addEventListener("change", async () => {
    const file = f.file.files?.[0];
    code = file ? new Uint8Array(await file.arrayBuffer()) : null;
    void refresh();
  });
  f.inputFile.addEventListener("change", async () => {
    const file = f.inputFile.files?.[0];
    inputFile = file ? new Uint8Array(await file.arrayBuffer()) : null;
    void refresh();
  });

  const log = (s: string) => f.log.appendChild(h("li", null, s));
  const form = h("form", { id: "post-form", class: "post" },
    h("div", { class: "columns" },
      h("div", { class: "column" },
        h("h2", null, "Job"),
        field("Signer", h("div", { class: "row" }, f.account, connectExt), chain.isDev ? "development chain: the dev accounts sign in this page" : "sign with a browser extension"),
        field("Program file (.wasm)", f.file),
        field("or program id", f.programId),
        f.program,
        field("Input", f.input),
        field("or input file", f.inputFile),
        h("div", { class: "grid3" },
          field("Fuel limit", f.fuel), field("Replicas", f.replicas), field("Max price / fuel (TSR)", f.price)),
        h("div", { class: "grid3" },
          field("Claim timeout (blocks)", f.claim), field("Execution timeout (blocks)", f.exec), field("Challenge window (blocks)", f.window))),
      h("div", { class: "column" },
        h("h2", null, "Quote"), f.quote, f.errors, f.submit, f.log)));
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    if (busy) return;
    busy = true;
    f.submit.disabled = true;
    f.log.replaceChildren();
    try {
      // Check again at the block we sign on: nothing is signed when the chain would refuse.
      const c = await check(ctx, f, code, inputFile);
      last = c;
      mount(f.errors, errorsView(c));
      if (c.errors.length || !c.program || !c.terms) { log("not submitted: the chain would refuse this job"); return; }
      const account = accounts[Number(f.account.value)];
      if (!account) { log("no signer"); return; }
      if (!c.program.onChain && c.program.code) {
        log(`uploading program ${c.program.id}`);
        await submit(chain.api.tx.Programs.upload_program({ code: c.program.code }), account, log);
      }
      const t = c.terms;
      log(`posting: ${num(t.fuel)} fuel × ${t.replicas} replica(s) at ≤ ${pricePerFuel(t.price)} per fuel`);
      const inc = await submit(chain.api.tx.Market.post_job({ spec: {
        terms: { program: c.program.id as `0x${string}`, fuel_limit: t.fuel, replicas: t.replicas, max_price_per_fuel: t.price, min_reputation: 0,
          max_output_len: 64 * 1024, claim_timeout: t.claim, execution_timeout: t.exec, challenge_window: t.window },
        input: { type: "Inline", value: c.input },
        placement: { region: undefined, labels: [] },
      } }), account, log);
      const posted = inc.events.find((e) => e.type === "Market" && e.value.type === "JobPosted");
      const id = posted ? Number(posted.value.value.job) : null;
      log(id !== null ? `posted job #${id}` : "posted (no JobPosted event?)");
      if (id !== null) location.hash = `#/job/${id}`;
    } catch (e) {
      const name = (e as Error).message;
      const doc = await chain.errorDoc(name);
      mount(f.errors, h("div", { class: "error chain-error", id: "post-error" }, h("div", { "data-error": name }, h("b", null, name), doc ? ` — ${doc}` : "")));
      log(`failed: ${name}`);
    } finally {
      busy = false;
      f.submit.disabled = (last?.errors.length ?? 1) > 0;
    }
  });
  mount(root, h("div", { class: "post-page" }, h("h1", null, "Post a job"), form));
  void refresh();
  return () => { seq++; clearTimeout(timer); };
};
