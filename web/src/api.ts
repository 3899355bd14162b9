// Chain access: one polkadot-api client, the typed API generated from the committed metadata
// (client/metadata/tessera.scale, see .papi/polkadot-api.json), the `tessera_*` JSON-RPC
// namespace through the client's raw request method, and the events a job left in blocks.
import { createClient, getTypedCodecs, type PolkadotClient, type TypedApi } from "polkadot-api";
import { getWsProvider } from "polkadot-api/ws";
import { tessera } from "@polkadot-api/descriptors";
import { decAnyMetadata, unifyMetadata } from "@polkadot-api/substrate-bindings";

export type Api = TypedApi<typeof tessera>;

// ---- the views the `tessera_*` methods answer with (docs/DAPP.md, api/runtime) ----------
export type Receipt = { status: string | Record<string, number>; fuelUsed: number | string; outputHash: string };
export type ReplicaView = { provider: string; pricePerFuel: string; committed: boolean; receipt: Receipt | null };
export type DisputeView = { challenger: string | null; bond: string; round: number; stage: string; jurors: string[]; voted: string[]; revealed: string[] };
export type LiveView = {
  inputHash: string; inputLen: number; fuelLimit: number | string; replicas: number; maxPricePerFuel: string;
  minReputation: number; maxOutputLen: number; escrow: string; deposit: string; postedAt: number; deadline: number;
  reopens: number; slots: ReplicaView[]; dispute: DisputeView | null;
};
export type ResultView = { receipt: Receipt | null; output: string | null; paid: string; fee: string; refunded: string; deposit: string; endedAt: number };
export type JobView = { id: number; requester: string; program: string; status: string; live: LiveView | null; result: ResultView | null };
export type ProviderView = {
  account: string; stake: string; unbonding: string; capacity: number; liveAssignments: number; pricePerFuel: string;
  region: unknown; labels: unknown[]; maintenance: boolean; lastHeartbeat: number; registeredAt: number;
  unavailable: string | null; reputation: number; completed: number; faults: number; slashed: number; pendingSlashes: number;
};
export type QuoteParams = {
  fuelLimit: number; replicas: number; maxPricePerFuel: string; minReputation?: number;
  input?: { inline: number } | { remote: number }; maxOutputLen?: number; region?: string; labels?: string[];
};
export type QuoteView = {
  perReplicaMax: string; paymentMax: string; protocolFeeMax: string; escrow: string; deposit: string; totalHeld: string;
  eligibleProviders: number; lowestPricePerFuel: string | null;
};
export type Unmatched = {
  status: string; openSlots: number; claimDeadline: number | null; providers: number; eligible: string[];
  refusals: { provider: string; reason: string }[]; summary: { reason: string; count: number }[];
};

/** A JSON-RPC error the node returned (code 2 from tessera_quoteJob names a market error). */
export class RpcCallError extends Error {
  constructor(public code: number | undefined, message: string) { super(message); }
}

export type Head = { number: number; hash: string; finalized: number; at: number };

export class Chain {
  readonly client: PolkadotClient;
  readonly api: Api;
  head: Head = { number: 0, hash: "", finalized: 0, at: Date.now() };
  /** Milliseconds per block (Aura's slot duration). */
  blockMs = 6000;
  chainName = "";
  chainType = "";
  ss58 = 42;
  private listeners = new Set<(h: Head) => void>();
  private eventsCache = new Map<string, ChainEvent[]>();
  private codecs = getTypedCodecs(tessera);

  constructor(readonly url: string, onStatus?: (s: string) => void) {
    this.client = createClient(getWsProvider(url, {
      onStatusChanged: (s) => onStatus?.(["connecting", "connected", "error", "closed"][Number(s.type)] ?? String(s.type)),
    }));
    this.api = this.client.getTypedApi(tessera);
    this.client.bestBlocks$.subscribe({
      next: (blocks) => {
        if (!blocks.length) return;
        const best = blocks[0];
        const fin = blocks[blocks.length - 1];
        if (best.hash === this.head.hash && fin.number === this.head.finalized) return;
        this.head = { number: best.number, hash: best.hash, finalized: fin.number, at: Date.now() };
        for (const l of this.listeners) l(this.head);
      },
      error: (e) => onStatus?.(`error: ${e}`),
    });
  }

  async init(): Promise<void> {
    const [name, type, props] = await Promise.all([
      this.rpc<string>("system_chain", []),
      this.rpc<string>("system_chainType", []).catch(() => ""),
      this.rpc<Record<string, unknown>>("system_properties", []).catch(() => ({} as Record<string, unknown>)),
    ]);
    this.chainName = name;
    this.chainType = typeof type === "string" ? type : Object.keys(type as object)[0] ?? "";
    if (typeof props.ss58Format === "number") this.ss58 = props.ss58Format;
    try {
      this.blockMs = Number(await this.api.constants.Aura.SlotDuration());
    } catch { /* keep 6 s */ }
  }

  /** Whether this is a development chain, where the well-known dev accounts may sign. */
  get isDev(): boolean {
    return this.chainType === "Development" || this.chainType === "Local" || /dev|local/i.test(this.chainName);
  }

  /** Calls back at every new best block (and now, if a block is known). */
  onHead(cb: (h: Head) => void): () => void {
    this.listeners.add(cb);
    if (this.head.hash) cb(this.head);
    return () => this.listeners.delete(cb);
  }

  /** A raw JSON-RPC request; errors become RpcCallError with the node's code and message. */
  async rpc<T>(method: string, params: unknown[]): Promise<T> {
    try {
      return await this.client._request<T>(method, params);
    } catch (e) {
      const o = e as { code?: number; message?: string; error?: { code?: number; message?: string } };
      const inner = o?.error ?? o;
      throw new RpcCallError(inner?.code, inner?.message ?? String(e));
    }
  }

  // ---- the tessera_* namespace ----
  job(id: number): Promise<JobView | null> { return this.rpc("tessera_job", [id]); }
  provider(account: string): Promise<ProviderView | null> { return this.rpc("tessera_provider", [account]); }
  quote(params: QuoteParams): Promise<QuoteView> { return this.rpc("tessera_quoteJob", [params]); }
  whyUnmatched(id: number): Promise<Unmatched | null> { return this.rpc("tessera_whyUnmatched", [id]); }

  /** Every job the chain knows (live, and ended ones whose results are kept), page by page. */
  async jobs(status?: string): Promise<JobView[]> {
    const all: JobView[] = [];
    let from: number | null = 0;
    while (from !== null) {
      const page: { jobs: JobView[]; next: number | null } = await this.rpc("tessera_jobs", [status ?? null, from, 100]);
      all.push(...page.jobs);
      from = page.next ?? null;
    }
    return all;
  }

  /** Every registered provider: accounts from storage, views from tessera_provider. */
  async providers(): Promise<ProviderView[]> {
    const entries = await this.api.query.Providers.ProviderOf.getEntries({ at: "best" });
    const views = await Promise.all(entries.map((e) => this.provider(e.keyArgs[0] as string)));
    return views.filter((v): v is ProviderView => v !== null).sort((a, b) => a.registeredAt - b.registeredAt);
  }

  async programExists(id: string): Promise<boolean> {
    return (await this.api.query.Programs.ProgramOf.getValue(id as `0x${string}`, { at: "best" })) !== undefined;
  }

  async nonce(address: string): Promise<number> {
    return this.rpc<number>("system_accountNextIndex", [address]);
  }

  async nextJobId(): Promise<bigint> {
    return this.api.query.Market.NextJobId.getValue({ at: "best" });
  }

  /** Chain-wide figures for the market page. */
  async figures() {
    const q = this.api.query;
    const c = this.api.constants;
    const [era, totalEmitted, initial, decay, eraLength, treasury, slashes, nextSlash, nextJob, maxFuel, maxReplicas, live] = await Promise.all([
      q.Market.EraEmission.getValue({ at: "best" }),
      q.Market.TotalEmitted.getValue({ at: "best" }),
      c.Market.InitialEraEmission(),
      c.Market.EmissionDecay(),
      c.Market.EraLength(),
      c.Providers.Treasury(),
      q.Providers.PendingSlashOf.getEntries({ at: "best" }),
      q.Providers.NextSlashId.getValue({ at: "best" }),
      q.Market.NextJobId.getValue({ at: "best" }),
      c.Market.MaxFuel(),
      c.Market.MaxReplicas(),
      q.Market.CounterForJobOf.getValue({ at: "best" }),
    ]);
    const treasuryAccount = await q.System.Account.getValue(treasury, { at: "best" });
    // The era is the block number over EraLength; EraEmission holds what was minted in the
    // era it names (nothing yet in this era when it names an older one).
    // budget(era) = InitialEraEmission × (1 − EmissionDecay)^era, EmissionDecay a Perbill.
    const eraIndex = Math.floor(this.head.number / Number(eraLength));
    const minted = era[0] === eraIndex ? era[1] : 0n;
    let budget = initial;
    for (let i = 0; i < eraIndex; i++) budget = (budget * (1_000_000_000n - BigInt(decay))) / 1_000_000_000n;
    return {
      eraIndex, minted, budget, eraLength: Number(eraLength), totalEmitted,
      treasury, treasuryFree: treasuryAccount.data.free,
      pendingSlashes: slashes.map((s) => ({ id: Number(s.keyArgs[0]), provider: s.value.provider, amount: s.value.amount })),
      slashesEver: Number(nextSlash), jobsEver: Number(nextJob), liveJobs: Number(live),
      maxFuel, maxReplicas: Number(maxReplicas),
    };
  }

  private errorDocs: Promise<Map<string, string>> | null = null;

  /**
   * The documentation of a pallet error ("Market::BadFuelLimit") from the chain's own
   * metadata, or "" when the metadata has no such error.
   */
  async errorDoc(name: string): Promise<string> {
    this.errorDocs ??= (async () => {
      const hash = this.head.hash || (await this.client.getFinalizedBlock()).hash;
      const m = unifyMetadata(decAnyMetadata(await this.client.getMetadata(hash)));
      const docs = new Map<string, string>();
      for (const p of m.pallets) {
        if (!p.errors) continue;
        const def = m.lookup[p.errors.type]?.def;
        if (def?.tag !== "variant") continue;
        for (const v of def.value) docs.set(`${p.name}::${v.name}`, v.docs.join(" ").trim());
      }
      return docs;
    })();
    return (await this.errorDocs).get(name) ?? "";
  }

  /** Whether the chain's metadata has this pallet error at all. */
  async hasError(name: string): Promise<boolean> {
    await this.errorDoc(name);
    return (await this.errorDocs!).has(name);
  }

  // ---- events: a job's history -------------------------------------------------------

  /** The Market events of the block at `number` (legacy RPC, so it reaches unpinned blocks). */
  async blockEvents(number: number): Promise<ChainEvent[]> {
    const hash = await this.rpc<string | null>("chain_getBlockHash", [number]);
    if (!hash) return [];
    const cached = this.eventsCache.get(hash);
    if (cached) return cached;
    const raw = await this.rpc<string | null>("state_getStorage", [SYSTEM_EVENTS_KEY, hash]);
    const codecs = await this.codecs;
    const decoded = raw ? codecs.query.System.Events.value.dec(raw) : [];
    const events: ChainEvent[] = [];
    decoded.forEach((e, index) => {
      if (e.event.type !== "Market") return;
      events.push({ block: number, index, name: e.event.value.type, data: e.event.value.value as Record<string, unknown> });
    });
    if (number <= this.head.finalized) this.eventsCache.set(hash, events);
    return events;
  }

  /**
   * The Market events about job `id`, oldest first: from `from` (its posting block, when
   * known) to `to`, or scanning back from `to` until its JobPosted event when `from` is
   * unknown (an ended job's result keeps only its end block). At most `limit` blocks.
   */
  async jobEvents(id: number, to: number, from?: number, limit = 400): Promise<{ events: ChainEvent[]; complete: boolean }> {
    const found: ChainEvent[] = [];
    let complete = false;
    const lowest = Math.max(1, from ?? to - limit);
    for (let top = to; top >= lowest; top -= 8) {
      const numbers: number[] = [];
      for (let n = top; n > top - 8 && n >= lowest; n--) numbers.push(n);
      let batch: ChainEvent[][];
      try {
        batch = await Promise.all(numbers.map((n) => this.blockEvents(n)));
      } catch {
        break; // state pruned below this block
      }
      for (const evs of batch) for (const e of evs) if (BigInt(e.data.job as bigint) === BigInt(id)) found.push(e);
      if (found.some((e) => e.name === "JobPosted")) { complete = true; break; }
    }
    found.sort((a, b) => a.block - b.block || a.index - b.index);
    return { events: found, complete: complete || from !== undefined };
  }
}

export type ChainEvent = { block: number; index: number; name: string; data: Record<string, unknown> };

/** twox128("System") ++ twox128("Events"): the well-known key of the block's events. */
const SYSTEM_EVENTS_KEY = "0x26aa394eea5630e07c48ae0c9558cef780d41e5e16056765bc8461851072c9d7";

/** The node to talk to: ?rpc=ws://… in the page's address, else the last one used, else local. */
export function nodeUrl(): string {
  const fromQuery = new URLSearchParams(location.search).get("rpc");
  if (fromQuery) {
    localStorage.setItem("tessera.rpc", fromQuery);
    return fromQuery;
  }
  return localStorage.getItem("tessera.rpc") ?? "ws://127.0.0.1:9944";
}
