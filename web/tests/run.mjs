// End-to-end tests of the web app: Playwright (playwright-core) driving Debian's chromium
// against a real dev node and worker that scripts/web.sh started. Prints
// "web tests: N passed, M failed" and exits non-zero when one failed.
//
// Environment (set by scripts/web.sh test):
//   WEB_URL          the served app, e.g. http://127.0.0.1:8090/
//   NODE_WS          the node's WebSocket endpoint, e.g. ws://127.0.0.1:9970
//   TESSERA_CLI      the requester CLI binary (posts a job "from outside")
//   MANDELBROT_WASM  the Mandelbrot program file the page uploads
//   SCREENSHOTS      when set, a directory to write market.png, job.png and post.png to
import { chromium } from "playwright-core";
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";

const WEB_URL = process.env.WEB_URL ?? "http://127.0.0.1:8090/";
const NODE_WS = process.env.NODE_WS ?? "ws://127.0.0.1:9970";
const NODE_HTTP = NODE_WS.replace(/^ws/, "http");
const CLI = process.env.TESSERA_CLI;
const WASM = process.env.MANDELBROT_WASM;
const SHOTS = process.env.SCREENSHOTS;
const ALICE = "5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY";
const BOB = "5FHneW46xGXgs5mUiveU4sbTyGBzmstUspZC92UhjJM694ty";
const SETTLE_MS = 240_000;

const app = (hash) => `${WEB_URL}?rpc=${encodeURIComponent(NODE_WS)}${hash}`;

async function rpc(method, params = []) {
  const res = await fetch(NODE_HTTP, { method: "POST", headers: { "content-type": "application/json" },
    body: JSON.stringify({ id: 1, jsonrpc: "2.0", method, params }) });
  const body = await res.json();
  if (body.error) throw new Error(`${method}: ${body.error.message}`);
  return body.result;
}
const bestNumber = async () => parseInt((await rpc("chain_getHeader")).number, 16);
async function waitBlocks(n) {
  const start = await bestNumber();
  while ((await bestNumber()) < start + n) await new Promise((r) => setTimeout(r, 500));
}
async function allJobs() {
  const out = [];
  for (let from = 0; from !== null;) {
    const page = await rpc("tessera_jobs", [null, from, 100]);
    out.push(...page.jobs);
    from = page.next ?? null;
  }
  return out;
}
function assert(cond, msg) { if (!cond) throw new Error(`assertion failed: ${msg}`); }

const results = [];
const state = {}; // what one test leaves for the next (the settled job's id, the program id)

async function test(name, fn, ctx) {
  const t0 = Date.now();
  const page = await ctx.newPage();
  const logs = [];
  page.on("console", (m) => { if (m.type() === "error") logs.push(m.text()); });
  page.on("pageerror", (e) => logs.push(String(e)));
  try {
    await fn(page);
    results.push({ name, ok: true });
    console.log(`ok   ${name} (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
  } catch (e) {
    results.push({ name, ok: false });
    console.log(`FAIL ${name} (${((Date.now() - t0) / 1000).toFixed(1)} s): ${e.message}`);
    if (logs.length) console.log(`     browser errors:\n       ${logs.slice(-5).join("\n       ")}`);
    try { await page.screenshot({ path: join(tmpdir(), `web-test-fail-${name.replace(/\W+/g, "-")}.png`), fullPage: true }); } catch {}
  } finally {
    await page.close();
  }
}

async function shot(page, file) {
  if (!SHOTS) return;
  mkdirSync(SHOTS, { recursive: true });
  await page.waitForTimeout(300);
  await page.screenshot({ path: join(SHOTS, file), fullPage: true });
  console.log(`     screenshot ${join(SHOTS, file)}`);
}

async function ready(page, hash) {
  await page.goto(app(hash));
  await page.waitForSelector("body[data-ready='1']", { timeout: 30_000 });
}

async function selectAccount(page, label) {
  const opts = await page.$$eval("#account option", (os) => os.map((o) => ({ value: o.value, text: o.textContent })));
  const opt = opts.find((o) => o.text.startsWith(`${label} `));
  assert(opt, `${label} among the signers: ${opts.map((o) => o.text).join(", ")}`);
  await page.selectOption("#account", opt.value);
}

// (1) A Mandelbrot job posted through the page settles; its receipt and image appear.
async function postsAndSettles(page) {
  assert(WASM, "MANDELBROT_WASM is set");
  const nonceBefore = await rpc("system_accountNextIndex", [ALICE]);
  await ready(page, "#/post");
  await selectAccount(page, "//Alice");
  await page.setInputFiles("#program-file", WASM);
  await page.fill("#fuel", "2000000000");
  await page.fill("#replicas", "1");
  await page.fill("#price", "0.000000000001");
  await page.waitForSelector("#program-status [data-on-chain='false']", { timeout: 15_000 });
  await page.waitForSelector("#quote .quote-terms", { timeout: 15_000 });
  const eligible = Number(await page.getAttribute("#quote .quote-terms", "data-eligible"));
  assert(eligible >= 1, `the quote counts Bob as eligible (got ${eligible})`);
  assert((await page.$("#post-error")) === null, "no error for a valid job");
  assert(!(await page.isDisabled("#submit")), "submit is enabled");
  // The page's quote is the chain's: compare with tessera_quoteJob for the same terms.
  const q = await rpc("tessera_quoteJob", [{ fuelLimit: 2000000000, replicas: 1, maxPricePerFuel: "1", input: { inline: 0 }, maxOutputLen: 65536 }]);
  const quoteText = await page.textContent("#quote");
  const tsr = (p) => { const s = (BigInt(p) * 1n).toString().padStart(13, "0"); const w = s.slice(0, -12), f = s.slice(-12).replace(/0+$/, ""); return `${BigInt(w).toLocaleString("en-US")}${f ? "." + f : ""} TSR`; };
  assert(quoteText.includes(tsr(q.escrow)), `the page shows the chain's escrow ${tsr(q.escrow)}: ${quoteText}`);
  await shot(page, "post.png");
  await page.click("#submit");
  await page.waitForURL(/#\/job\/\d+$/, { timeout: 60_000 });
  const id = Number(page.url().match(/#\/job\/(\d+)$/)[1]);
  state.jobId = id;
  const nonceAfter = await rpc("system_accountNextIndex", [ALICE]);
  assert(nonceAfter === nonceBefore + 2, `Alice signed upload_program and post_job (nonce ${nonceBefore} → ${nonceAfter})`);
  const posted = await rpc("tessera_job", [id]);
  assert(posted && posted.requester === ALICE, `job ${id} is Alice's on chain`);
  state.program = posted.program;
  // Follow it live, on the same page, to settlement.
  await page.waitForSelector("[data-step='claimed'][data-state='done']", { timeout: SETTLE_MS });
  await page.waitForSelector("[data-step='settled'][data-state='done']", { timeout: SETTLE_MS });
  const job = await rpc("tessera_job", [id]);
  assert(job.status === "settled", `job ${id} settled on chain (${job.status})`);
  // Timeline: every step up to the challenge window has a block number, dispute none.
  for (const step of ["posted", "claimed", "committed", "revealed", "challenge", "settled"]) {
    const blocks = await page.textContent(`[data-step='${step}'] .blocks`);
    assert(/#\d+/.test(blocks), `timeline step ${step} has a block number (${blocks})`);
  }
  assert((await page.getAttribute("[data-step='dispute']", "data-state")) === "skipped", "no dispute");
  const endBlock = Number((await page.textContent("[data-step='settled'] .blocks")).match(/#(\d+)/)[1]);
  assert(endBlock === job.result.endedAt, `settled at #${job.result.endedAt} (page: #${endBlock})`);
  // The replica's receipt, read from the Revealed event since the slots are gone.
  const cells = await page.$$eval("#replicas tbody tr:first-child td", (tds) => tds.map((t) => t.textContent));
  assert(cells[0].startsWith("Bob"), `Bob's replica is listed: ${cells.join(" | ")}`);
  const fuel = Number(job.result.receipt.fuelUsed).toLocaleString("en-US");
  assert(cells[2] === "yes" && cells[3] === "ok" && cells[4] === fuel, `committed, exit ok, ${fuel} fuel: ${cells.join(" | ")}`);
  assert(/TSR \+ .*TSR emission/.test(cells[6]), `the replica's payment and emission from ReplicaPaid: ${cells[6]}`);
  const hash = await page.getAttribute("#replicas tbody tr code", "title");
  assert(hash === job.result.receipt.outputHash, `receipt output hash ${hash} is the chain's ${job.result.receipt.outputHash}`);
  // Amounts and the image.
  assert((await page.textContent("[data-figure='paid']")).includes(tsr(job.result.paid)), "paid amount shown");
  assert((await page.textContent("[data-figure='fee']")).includes(tsr(job.result.fee)), "fee shown");
  assert((await page.textContent("[data-figure='refund']")).includes(tsr(job.result.refunded)), "refund shown");
  const img = await page.$eval("canvas.preview", (c) => {
    const d = c.getContext("2d").getImageData(0, 0, c.width, c.height).data;
    const levels = new Set();
    for (let i = 0; i < d.length; i += 4) levels.add(d[i]);
    return { w: c.width, h: c.height, levels: levels.size };
  });
  const out = Buffer.from(job.result.output.slice(2), "hex");
  const header = out.subarray(0, 20).toString("latin1").split(/\s+/);
  assert(header[0] === "P5" && img.w === Number(header[1]) && img.h === Number(header[2]), `canvas ${img.w}×${img.h} is the PGM's ${header[1]}×${header[2]}`);
  assert(img.levels > 8, `the preview is an image, not a blank (${img.levels} grey levels)`);
  const dl = await page.getAttribute("#download", "download");
  assert(dl === `job-${id}.pgm`, `download as job-${id}.pgm (${dl})`);
  const [download] = await Promise.all([page.waitForEvent("download"), page.click("#download")]);
  const path = await download.path();
  const { readFileSync } = await import("node:fs");
  assert(Buffer.compare(readFileSync(path), out) === 0, "the downloaded file is the chain's output, byte for byte");
  await page.evaluate(() => window.scrollTo(0, 0));
  await shot(page, "job.png");
}

// (2) The market page follows the chain: a job posted from outside appears, then settles,
// without a reload.
async function listsUpdateLive(page) {
  assert(CLI, "TESSERA_CLI is set");
  await ready(page, "#/");
  await page.waitForSelector("#live-jobs", { timeout: 30_000 });
  await page.evaluate(() => { window.__noReload = "still here"; });
  const before = (await allJobs()).map((j) => j.id);
  const { stdout } = await promisify(execFile)(CLI, ["--node", NODE_WS, "--suri", "//Charlie", "post", "--program", "example:mandelbrot",
    "--input-text", "", "--fuel", "2000000000", "--replicas", "1", "--max-price", "0.000000000001", "--challenge-window", "10"], { timeout: 120_000 });
  const after = await allJobs();
  const fresh = after.filter((j) => !before.includes(j.id));
  assert(fresh.length === 1, `the CLI posted one job (${stdout.trim().split("\n").pop()})`);
  const id = fresh[0].id;
  await page.waitForSelector(`#live-jobs a[data-job='${id}'], #ended-jobs a[data-job='${id}']`, { timeout: 30_000 });
  await page.waitForSelector(`#ended-jobs a[data-job='${id}']`, { timeout: SETTLE_MS });
  const row = await page.textContent(`#ended-jobs tr:has(a[data-job='${id}'])`);
  assert(row.includes("settled"), `job ${id} is listed as settled: ${row}`);
  assert((await page.evaluate(() => window.__noReload)) === "still here", "the page was not reloaded");
  const job = await rpc("tessera_job", [id]);
  const paid = (BigInt(job.result.paid));
  assert(paid > 0n, "the chain paid the provider");
  const provider = await page.textContent(`#providers tr:has-text("Bob")`);
  assert(provider.includes("2,000 TSR"), `Bob's stake is shown: ${provider}`);
}

// (3) Bad input: the chain's named error, and nothing is signed.
async function badInputSubmitsNothing(page) {
  await ready(page, "#/chain");
  await page.waitForSelector("[data-figure='limits'] .value", { timeout: 30_000 });
  const maxFuel = BigInt((await page.textContent("[data-figure='limits'] .value")).replace(/[^\d]/g, ""));
  assert(maxFuel > 2_000_000_000n, `MaxFuel read from the chain (${maxFuel})`);
  const nonce = await rpc("system_accountNextIndex", [ALICE]);
  const jobs = (await allJobs()).length;
  await page.goto(app("#/post"));
  await page.waitForSelector("body[data-ready='1']");
  await selectAccount(page, "//Alice");
  // No program at all.
  await page.waitForSelector("#post-error [data-error='Market::ProgramNotFound']", { timeout: 15_000 });
  assert(await page.isDisabled("#submit"), "submit disabled without a program");
  await page.$eval("#post-form", (f) => f.requestSubmit());
  await page.waitForSelector("#tx-log li:has-text('not submitted')", { timeout: 15_000 });
  // A program on chain but fuel above the chain's MaxFuel.
  assert(state.program, "test 1 left the program id");
  await page.fill("#program-id", state.program);
  await page.fill("#fuel", String(maxFuel + 1n));
  await page.waitForSelector("#post-error [data-error='Market::BadFuelLimit']", { timeout: 15_000 });
  const msg = await page.textContent("#post-error");
  assert(!msg.includes("ProgramNotFound"), `only the fuel is wrong now: ${msg}`);
  assert(msg.includes("MaxFuel"), `the error's documentation from the metadata is shown: ${msg}`);
  assert(await page.isDisabled("#submit"), "submit disabled with fuel above MaxFuel");
  await page.$eval("#post-form", (f) => f.requestSubmit());
  await page.waitForSelector("#tx-log li:has-text('not submitted')", { timeout: 15_000 });
  await waitBlocks(2);
  assert((await rpc("system_accountNextIndex", [ALICE])) === nonce, "Alice's nonce did not change");
  assert((await allJobs()).length === jobs, "no job was posted");
  // Within the limit again, the error goes away.
  await page.fill("#fuel", "2000000000");
  await page.waitForFunction(() => !document.querySelector("#post-error"), null, { timeout: 15_000 });
  assert(!(await page.isDisabled("#submit")), "a valid job can be submitted again");
}

// (4) The providers and chain pages render the chain's figures.
async function providersAndChainRender(page) {
  await ready(page, "#/providers");
  await page.waitForSelector("#providers tbody tr", { timeout: 30_000 });
  const bob = await rpc("tessera_provider", [BOB]);
  const row = await page.textContent(`#providers tr:has-text("Bob")`);
  assert(row.includes("2,000 TSR") && row.includes(`${bob.liveAssignments}/${bob.capacity}`), `Bob's stake and load: ${row}`);
  assert(row.includes("live · heartbeat"), `Bob is live: ${row}`);
  assert(row.includes(`${bob.completed} / ${bob.faults}`), `completed / faults ${bob.completed} / ${bob.faults}: ${row}`);
  await ready(page, "#/chain");
  await page.waitForSelector("[data-figure='emission'] .value", { timeout: 30_000 });
  const emission = await page.textContent("[data-figure='emission'] .value");
  assert(/^[\d,.]+ TSR$/.test(emission) && emission !== "0 TSR", `emission this era is positive after settled jobs: ${emission}`);
  const jobs = await page.textContent("[data-figure='jobs'] .note");
  const all = await allJobs();
  assert(jobs.includes(`${all.length} posted ever`), `jobs posted: ${jobs}`);
  const fees = await page.textContent("[data-figure='fees'] .value");
  assert(fees !== "0 TSR", `fees of settled jobs shown: ${fees}`);
  for (const k of ["treasury", "slashes", "total-emitted", "blocks"]) assert(await page.$(`[data-figure='${k}']`), `figure ${k} shown`);
}

// (5) A job with more replicas than providers stays unmatched; its page says why, as
// tessera_whyUnmatched does.
async function unmatchedExplained(page) {
  const before = (await allJobs()).map((j) => j.id);
  await promisify(execFile)(CLI, ["--node", NODE_WS, "--suri", "//Dave", "post", "--program", "example:mandelbrot",
    "--input-text", "", "--fuel", "2000000000", "--replicas", "2", "--max-price", "0.000000000001"], { timeout: 120_000 });
  const fresh = (await allJobs()).filter((j) => !before.includes(j.id));
  assert(fresh.length === 1, "the CLI posted the two-replica job");
  const id = fresh[0].id;
  await ready(page, `#/job/${id}`);
  // Bob takes one slot; the other stays open: Bob may not take a second one.
  await page.waitForSelector("#unmatched [data-reason='alreadyClaimed']", { timeout: 60_000 });
  const why = await rpc("tessera_whyUnmatched", [id]);
  assert(why.openSlots === 1, `one slot open on chain (${why.openSlots})`);
  const text = await page.textContent("#unmatched");
  assert(text.includes("1 open slot") && text.includes(`${why.providers} provider`), `the page's summary: ${text}`);
  assert((await page.getAttribute("[data-step='claimed']", "data-state")) === "current", "claiming is the current step");
  assert((await page.textContent("[data-step='claimed'] .note")).includes("1/2 slots"), "one of two slots claimed");
  // The market with this live job next to the settled Mandelbrot jobs.
  await ready(page, "#/");
  await page.waitForSelector(`#live-jobs a[data-job='${id}']`, { timeout: 30_000 });
  await page.waitForSelector("#ended-jobs .s-settled", { timeout: 30_000 });
  await shot(page, "market.png");
}

const t0 = Date.now();
const profile = mkdtempSync(join(tmpdir(), "tessera-web-chromium-"));
const ctx = await chromium.launchPersistentContext(profile, {
  executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
  headless: true,
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync"],
  viewport: { width: 1360, height: 900 },
  acceptDownloads: true,
});
try {
  await test("a Mandelbrot job posted through the page settles with its receipt and image", postsAndSettles, ctx);
  await test("the market lists update without reloading", listsUpdateLive, ctx);
  await test("a bad input shows the chain's error and submits nothing", badInputSubmitsNothing, ctx);
  await test("the providers and chain pages render", providersAndChainRender, ctx);
  await test("a job nobody else can serve says why it is unmatched", unmatchedExplained, ctx);
} finally {
  await ctx.close();
  rmSync(profile, { recursive: true, force: true });
}
const passed = results.filter((r) => r.ok).length, failed = results.length - passed;
console.log(`web tests: ${passed} passed, ${failed} failed (${((Date.now() - t0) / 1000).toFixed(0)} s)`);
process.exit(failed ? 1 : 0);
