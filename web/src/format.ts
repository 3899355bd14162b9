// Formatting helpers: amounts, accounts, blocks, receipts. Pure functions, no chain access.

/** Plancks per TSR (12 decimals). */
export const PLANCKS = 10n ** 12n;

/** A planck amount (bigint or decimal string) as TSR, trailing zeros trimmed: "1.5 TSR". */
export function tsr(amount: bigint | string | number | null | undefined, unit = true): string {
  if (amount === null || amount === undefined) return "—";
  const v = BigInt(amount);
  const neg = v < 0n;
  const a = neg ? -v : v;
  const whole = a / PLANCKS;
  const frac = (a % PLANCKS).toString().padStart(12, "0").replace(/0+$/, "");
  const s = `${neg ? "-" : ""}${whole.toLocaleString("en-US")}${frac ? "." + frac : ""}`;
  return unit ? `${s} TSR` : s;
}

/** A price per fuel: tiny, so shown in plancks when below a millionth of a TSR. */
export function pricePerFuel(amount: bigint | string | null | undefined): string {
  if (amount === null || amount === undefined) return "—";
  const v = BigInt(amount);
  return v < 1_000_000n ? `${v.toLocaleString("en-US")} planck` : tsr(v);
}

/** Parses a TSR decimal ("0.000000000001") into plancks; throws on bad input. */
export function parseTsr(text: string): bigint {
  const t = text.trim();
  if (!/^\d+(\.\d{0,12})?$/.test(t)) throw new Error(`not a TSR amount with at most 12 decimals: ${text}`);
  const [w, f = ""] = t.split(".");
  return BigInt(w) * PLANCKS + BigInt(f.padEnd(12, "0"));
}

/** A big integer with thousands separators. */
export function num(n: bigint | number | string | null | undefined): string {
  if (n === null || n === undefined) return "—";
  return BigInt(n).toLocaleString("en-US");
}

/** A shortened SS58 address: 5FHneW…694ty. */
export function short(addr: string | null | undefined): string {
  if (!addr) return "—";
  return addr.length > 14 ? `${addr.slice(0, 6)}…${addr.slice(-5)}` : addr;
}

const DEV_NAMES: Record<string, string> = {
  "5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY": "Alice",
  "5FHneW46xGXgs5mUiveU4sbTyGBzmstUspZC92UhjJM694ty": "Bob",
  "5FLSigC9HGRKVhB9FiEo4Y3koPsNmBmLJbpXg2mp1hXcS59Y": "Charlie",
  "5DAAnrj7VHTznn2AWBemMuyBwZWs6FNFjdyVXUeYum3PTXFy": "Dave",
  "5HGjWAeFDfFCWPsjFQdVV2Msvz2XtMktvgocEZcCj68kUMaw": "Eve",
  "5CiPPseXPECbkjWCa6MnjNokrgYjMqmKndv2rSnekmSK2DjL": "Ferdie",
};

/** The dev account's name (on any chain whose SS58 prefix is 42), else "". */
export function devName(addr: string | null | undefined): string {
  return (addr && DEV_NAMES[addr]) || "";
}

/** An account as "Bob (5FHneW…694ty)" or the shortened address. */
export function who(addr: string | null | undefined): string {
  const n = devName(addr);
  return n ? `${n} · ${short(addr)}` : short(addr);
}

/** A hex hash shortened: 0x1234…abcd. */
export function shortHash(h: string | null | undefined): string {
  if (!h) return "—";
  return h.length > 14 ? `${h.slice(0, 8)}…${h.slice(-6)}` : h;
}

/** Seconds as "1 h 02 min", "3 min 05 s", "42 s". */
export function duration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s >= 3600) return `${Math.floor(s / 3600)} h ${String(Math.floor((s % 3600) / 60)).padStart(2, "0")} min`;
  if (s >= 60) return `${Math.floor(s / 60)} min ${String(s % 60).padStart(2, "0")} s`;
  return `${s} s`;
}

/** Parts per million as a percentage: 1000000 → "100 %". */
export function ppm(parts: number | null | undefined): string {
  if (parts === null || parts === undefined) return "—";
  const pct = parts / 10_000;
  return `${pct.toFixed(pct === Math.round(pct) ? 0 : 2)} %`;
}

/** A receipt's exit status, as the RPC gives it ("ok", {"aborted": n}, …) or as an event's enum. */
export function exitStatus(s: unknown): string {
  if (typeof s === "string") return s;
  if (s && typeof s === "object") {
    const o = s as Record<string, unknown>;
    if ("type" in o) return String(o.type).replace(/^./, (c) => c.toLowerCase()) + (o.value !== undefined ? `(${o.value})` : "");
    const [k, v] = Object.entries(o)[0] ?? ["?", ""];
    return `${k}(${v})`;
  }
  return String(s);
}

/** Bytes as "1.2 KiB". */
export function bytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 / 1024).toFixed(1)} MiB`;
}

export function hexToBytes(hex: string): Uint8Array {
  const h = hex.startsWith("0x") ? hex.slice(2) : hex;
  const out = new Uint8Array(h.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(h.slice(2 * i, 2 * i + 2), 16);
  return out;
}

export function bytesToHex(b: Uint8Array): string {
  return "0x" + Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
}

/** Statuses in lifecycle order, live first. */
export const LIVE_STATUSES = ["open", "committing", "revealing", "challengeable", "disputed"] as const;
export const ENDED_STATUSES = ["settled", "cancelled", "expired", "inconclusive"] as const;
