// End-to-end tests of the Follicle studio in real Chromium.
//
// One server per run (fresh data directory, the demo clinic and a second clinic), one
// browser. The tests run in order and build on each other: the client created in the
// "new client" test is consulted, treated, recalled and photographed by the later ones.
// Screenshots of the main pages and the designer's drag latency go to $FOLLICLE_E2E_OUT
// (default: e2e/out, ignored by git), so a test run changes no tracked file;
// `scripts/refresh-docs` points it at docs/ to refresh the screenshots and the latency table.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

import { DESKTOP, TABLET, launch } from "../lib/browser.mjs";
import { exifSegments, frameSize, readExif } from "../lib/jpeg.mjs";
import { signTreatmentAtChair } from "../lib/consent.mjs";
import { dragParts } from "../lib/drag.mjs";
import { REPO, serverBuild, startServer } from "../lib/server.mjs";

const PASSWORD = "follicle-demo";
const OWNER = "owner@demo.follicle.test";
const PRACTITIONER = "practitioner@demo.follicle.test";
// The demo's Norwood VII, full coverage client (examples/clients/norwood-7-full-coverage.toml),
// treated once, with a design and a photo.
const NORWOOD_VII = "Martin Kowalski";
const OUT = process.env.FOLLICLE_E2E_OUT || path.join(REPO, "e2e", "out");
const SHOTS = path.join(OUT, "screenshots");
const BENCH = path.join(OUT, "benchmarks", "designer-drag.md");
const FIXTURE = path.join(REPO, "e2e", "fixtures", "with-gps.jpg");
const UUID = "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}";

let server;
let browser;
let page; // the owner's page, signed in by the first test
const shared = {}; // ids found along the way: newClient, norwood7, norwood7Design, norwood7Photo

const escapeRe = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

async function shot(p, name, { keepFocus = false } = {}) {
  fs.mkdirSync(SHOTS, { recursive: true });
  // Fonts settled, no focus ring or caret from the last field typed in.
  await p.evaluate(() => document.fonts.ready);
  if (!keepFocus) await p.evaluate(() => document.activeElement?.blur());
  // Layout: nothing sticks out of its card, and the page does not scroll sideways.
  const overflow = await p.evaluate(() => {
    const out = [];
    if (document.documentElement.scrollWidth > window.innerWidth) out.push(`page ${document.documentElement.scrollWidth} px wide`);
    for (const card of document.querySelectorAll(".card")) {
      if (card.scrollWidth > card.clientWidth + 1) out.push(`.card "${card.querySelector("h1,h2,legend")?.textContent.trim() ?? ""}": ${card.scrollWidth} > ${card.clientWidth} px`);
    }
    return out;
  });
  assert.deepEqual(overflow, [], `${name}: content overflows at ${p.viewportSize().width} px`);
  await p.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: true, animations: "disabled", caret: "hide" });
}

async function signIn(p, email, password) {
  await p.goto(`${server.url}/login`);
  await p.fill("#email", email);
  await p.fill("#password", password);
  await Promise.all([p.waitForURL(`${server.url}/`), p.getByRole("button", { name: "Sign in" }).click()]);
}

async function newPage(viewport = DESKTOP) {
  const context = await browser.newContext({ viewport, baseURL: server.url });
  const p = await context.newPage();
  p.setDefaultTimeout(20_000);
  p.setDefaultNavigationTimeout(30_000);
  return p;
}

/** The id in a studio URL such as /clients/{id}. */
function idFrom(url, prefix) {
  const m = new URL(url).pathname.match(new RegExp(`^${prefix}/(${UUID})$`));
  assert.ok(m, `expected a URL ${prefix}/{id}, got ${url}`);
  return m[1];
}

function need(key) {
  assert.ok(shared[key], `needs ${key}, found by an earlier test that failed`);
  return shared[key];
}

before(async () => {
  server = await startServer();
  browser = await launch();
  page = await newPage();
});

after(async () => {
  await browser?.close().catch(() => {});
  await server?.stop();
});

describe("sign-in", () => {
  test("a wrong password shows the error and keeps the email typed", async () => {
    await page.goto("/login");
    await shot(page, "login", { keepFocus: true });
    await page.fill("#email", OWNER);
    await page.fill("#password", "not-the-password");
    const [res] = await Promise.all([
      page.waitForResponse((r) => r.url().endsWith("/login") && r.request().method() === "POST"),
      page.getByRole("button", { name: "Sign in" }).click(),
    ]);
    assert.equal(res.status(), 401);
    await page.waitForSelector("#login-error");
    assert.equal((await page.textContent("#login-error")).trim(), "Wrong email or password.");
    assert.equal(await page.inputValue("#email"), OWNER);
    assert.equal(await page.inputValue("#password"), "", "the password is not sent back");
    assert.equal(new URL(page.url()).pathname, "/login");
  });

  test("the right password opens Today, with the user's name and role", async () => {
    await page.fill("#password", PASSWORD);
    await Promise.all([page.waitForURL(`${server.url}/`), page.getByRole("button", { name: "Sign in" }).click()]);
    await page.waitForSelector("h1");
    assert.match(await page.textContent("h1"), /^Today/);
    assert.match(await page.textContent("header .who"), /\(owner\)/);
    const cookies = await page.context().cookies();
    const session = cookies.find((c) => c.httpOnly);
    assert.ok(session, "a HttpOnly session cookie is set");
    assert.equal(session.secure, true, "the session cookie is Secure");
    // The demo clinic's recent clients are listed.
    assert.ok(await page.locator("#h-recent + ul li").count() >= 1);
    await shot(page, "today");
  });
});

describe("clients", () => {
  test("the list finds the demo clients; the Norwood VII client's record has a design, a session and a photo", async () => {
    await page.goto("/clients");
    assert.equal(await page.locator("#client-results tbody tr").count(), 8, "the demo has 8 clients");
    await shot(page, "clients");
    await page.fill("#q", "Kowalski");
    await Promise.all([page.waitForURL(/\/clients\?q=Kowalski/), page.getByRole("button", { name: "Search" }).click()]);
    const rows = page.locator("#client-results tbody tr");
    assert.equal(await rows.count(), 1);
    await Promise.all([page.waitForURL(new RegExp(`/clients/${UUID}$`)), rows.getByRole("link", { name: NORWOOD_VII }).click()]);
    shared.norwood7 = idFrom(page.url(), "/clients");
    assert.equal((await page.textContent("h1#client-name")).trim(), NORWOOD_VII);
    // Their consultation is the Norwood VII, full coverage example.
    const consultations = await (await page.request.get(`/api/v1/clients/${shared.norwood7}/consultations`)).json();
    assert.equal(consultations.length, 1);
    assert.match(consultations[0].profile_toml, /scale = "norwood"\s+stage = "VII"/);
    // The stored record, as issued: the approach planned and a numbered quote.
    assert.deepEqual(consultations[0].plan.approach, ["full_coverage"]);
    assert.match(consultations[0].quote_number, /^Q-\d+$/);

    const timeline = await page.textContent("ol#timeline");
    assert.match(timeline, /Consultation v1/);
    assert.match(timeline, /Design v1/);
    assert.match(timeline, /Session — \d+ min · zones /);
    assert.match(timeline, /Photo \(front\)/);
    const designHref = await page.getAttribute("#open-designer", "href");
    shared.norwood7Design = designHref.match(new RegExp(`^/designs/(${UUID})$`))[1];
    const photo = page.locator('#photos img[src^="/api/v1/photos/"]').first();
    await photo.waitFor();
    shared.norwood7Photo = (await photo.getAttribute("src")).split("/").pop();
    await page.waitForFunction(() => Array.from(document.querySelectorAll("#photos img")).every((i) => i.complete && i.naturalWidth > 0));
    await shot(page, "client");
  });

  test("a new client: a bad age is shown beside the field, the typed name kept; fixed, it saves", async () => {
    await page.goto("/clients/new");
    await page.fill("#name", "Tomasz Nowak");
    await page.fill("#age", "abc");
    await page.fill("#phone", "+44 7700 900123");
    await page.fill("#email", "tomasz@example.test");
    const [res] = await Promise.all([
      page.waitForResponse((r) => r.url().endsWith("/clients/new") && r.request().method() === "POST"),
      page.getByRole("button", { name: "Save client" }).click(),
    ]);
    assert.equal(res.status(), 422);
    await page.waitForSelector("#age[aria-invalid=true]");
    const error = page.locator("#age + p.field-error");
    assert.match(await error.textContent(), /expected whole years.*"abc"/);
    assert.equal(await page.getAttribute("#age", "aria-describedby"), await error.getAttribute("id"));
    assert.equal(await page.inputValue("#name"), "Tomasz Nowak");
    assert.equal(await page.inputValue("#phone"), "+44 7700 900123");
    assert.equal(await page.inputValue("#age"), "abc");
    assert.equal(await page.locator("#name[aria-invalid]").count(), 0, "only the bad field is marked");

    await page.fill("#age", "41");
    await Promise.all([page.waitForURL(new RegExp(`/clients/${UUID}$`)), page.getByRole("button", { name: "Save client" }).click()]);
    shared.newClient = idFrom(page.url(), "/clients");
    assert.equal((await page.textContent("h1#client-name")).trim(), "Tomasz Nowak");
    assert.match(await page.textContent("main"), /41 years/);
    assert.match(await page.textContent("main"), /Nothing recorded yet/);
  });
});

describe("consultation", () => {
  test("the wizard assesses Norwood V for full coverage, shows the plan and a preview, and saves", async () => {
    const id = need("newClient");
    await page.goto(`/clients/${id}/consult`);
    // Step 1 is filled from the client; only one step is shown at a time.
    assert.equal(await page.inputValue("#name"), "Tomasz Nowak");
    assert.equal(await page.inputValue("#age"), "41");
    assert.equal(await page.isVisible("#fitzpatrick"), false, "step 2 is hidden at first");
    await page.selectOption("#sex", "male");
    await page.getByRole("button", { name: "Next: Skin and hair" }).click();
    assert.ok(await page.isVisible("#fitzpatrick"));
    await page.selectOption("#fitzpatrick", "III");
    await page.selectOption("#hair_colour", "dark_brown");
    await page.fill("#grey_percent", "10");
    await page.getByRole("button", { name: "Next: Hair loss and head" }).click();
    await page.selectOption("#scale", "norwood");
    await page.fill("#stage", "V");
    await page.getByRole("button", { name: "Next: Scars" }).click();
    await page.getByRole("button", { name: "Next: Medical" }).click();
    await page.getByRole("button", { name: "Next: Lifestyle and goals" }).click();
    await page.selectOption("#sun_exposure", "moderate");
    await page.check('input[name=aims][value="full_coverage"]');
    await page.selectOption("#hairline_style", "soft");

    const [res] = await Promise.all([
      page.waitForResponse((r) => r.url().endsWith(`/clients/${id}/consult`) && r.request().method() === "POST"),
      page.click("#assess"),
    ]);
    assert.equal(res.status(), 200);
    await page.waitForSelector("section#result");
    const verdict = (await page.textContent("#verdict")).trim();
    assert.ok(verdict.length > 0, "a verdict is shown");
    assert.notEqual(verdict, "not suitable", "a healthy Norwood V is treatable");
    const sessions = await page.locator("table#sessions tbody tr").count();
    assert.ok(sessions >= 2, `full coverage takes several sessions, got ${sessions}`);
    assert.ok(await page.locator("table#quote tbody tr").count() >= sessions);
    assert.match(await page.textContent("table#quote"), /Total/);
    await page.waitForFunction(() => {
      const img = document.querySelector("img#preview");
      return img && img.complete && img.naturalWidth > 0;
    });
    assert.ok(await page.$eval("img#preview", (i) => i.naturalWidth) > 0);
    await page.locator("section#result").scrollIntoViewIfNeeded();
    await shot(page, "consultation");

    await Promise.all([page.waitForURL(`${server.url}/clients/${id}`), page.click("#save-consultation")]);
    const timeline = await page.textContent("ol#timeline");
    assert.match(timeline, /Consultation v1/);
    assert.match(timeline, /Design v1/);
    assert.match(timeline, new RegExp(`Verdict: ${escapeRe(verdict)}; ${sessions} sessions planned`));
    assert.equal(await page.locator("#open-designer").count(), 1, "the saved design can be opened");
    assert.match(await page.textContent("#start-consultation"), /New consultation/);
  });
});

describe("designer", () => {
  /** Opens a design and waits for its first dots. */
  async function openDesigner(p, designId) {
    await p.goto(`/designs/${designId}`);
    await p.waitForFunction(() => window.follicleDesigner && window.follicleDesigner.updates > 0 && window.follicleDesigner.dots > 0, null, { timeout: 30_000 });
    assert.match(await p.textContent("#status"), /dots over \d+ sessions/);
  }

  test("dragging a hairline point redraws the dots (Norwood VII); drag latency is reported", async () => {
    const designId = need("norwood7Design");
    await openDesigner(page, designId);
    assert.match(await page.textContent("h1"), new RegExp(NORWOOD_VII));
    await shot(page, "designer");

    const before = await page.evaluate(() => ({
      dots: window.follicleDesigner.dots,
      checksum: window.follicleDesigner.checksum,
      updates: window.follicleDesigner.updates,
      superseded: window.follicleDesigner.superseded,
      anchors: window.follicleDesigner.state.anchors.map((a) => a.slice()),
    }));
    assert.ok(before.anchors.length >= 3, "the hairline has control points");
    const i = Math.floor(before.anchors.length / 2);
    // The point must be on screen for page.mouse.
    await page.evaluate(([i]) => {
      const [, y] = window.follicleDesigner.anchorClientXY(i);
      window.scrollBy(0, y - window.innerHeight / 3);
    }, [i]);
    const [x0, y0] = await page.evaluate((i) => window.follicleDesigner.anchorClientXY(i), i);
    const latenciesBefore = await page.evaluate(() => window.follicleDesigner.latencies.length);
    const eventsBefore = await page.evaluate(() => window.follicleDesigner.eventLatencies.length);
    const timingsBefore = await page.evaluate(() => window.follicleDesigner.timings.length);

    await page.mouse.move(x0, y0);
    await page.mouse.down();
    const moves = 30;
    const movedAt = [];
    for (let k = 1; k <= moves; k++) {
      // About 60 pointer events a second, 1.5 px each: 45 px towards the crown in all. Each
      // move waits for the browser to take it, so the moves may come further apart: the report
      // gives the interval they came at.
      await page.mouse.move(x0 + k * 0.5, y0 + k * 1.5);
      movedAt.push(performance.now());
      await page.waitForTimeout(16);
    }
    await page.mouse.up();
    // Wait for the last answer (the drop sends one more request).
    await page.waitForFunction(() => {
      const d = window.follicleDesigner;
      return !d.state.inFlight && !d.state.pending && !d.state.drag;
    }, null, { timeout: 30_000 });
    await page.waitForTimeout(100);
    const afterDrag = await page.evaluate(() => ({
      dots: window.follicleDesigner.dots,
      checksum: window.follicleDesigner.checksum,
      updates: window.follicleDesigner.updates,
      superseded: window.follicleDesigner.superseded,
      latencies: window.follicleDesigner.latencies.slice(),
      eventLatencies: window.follicleDesigner.eventLatencies.slice(),
      timings: window.follicleDesigner.timings.slice(),
      anchors: window.follicleDesigner.state.anchors.map((a) => a.slice()),
      status: document.getElementById("status").textContent,
      plan: window.follicleDesigner.plan,
      figures: document.getElementById("plan-figures").textContent,
    }));
    assert.doesNotMatch(afterDrag.status, /Not drawn|did not answer/, afterDrag.status);
    assert.ok(afterDrag.updates > before.updates, `the dots were redrawn after the drag (updates ${before.updates} → ${afterDrag.updates})`);
    assert.notEqual(afterDrag.checksum, before.checksum, "the dots changed");
    assert.ok(afterDrag.anchors[i][1] < before.anchors[i][1] - 10, `the point moved back (y ${before.anchors[i][1]} → ${afterDrag.anchors[i][1]} mm)`);
    // After the release the dots drawn are exactly the pattern of the design: the same count
    // and the same records (an order-free checksum) as a whole pattern from POST /pattern.
    const full = await page.evaluate(async () => {
      const d = window.follicleDesigner;
      const res = await fetch("/api/v1/pattern", {
        method: "POST",
        headers: { "Content-Type": "application/json", Accept: "application/vnd.follicle.pattern", "X-CSRF-Token": document.getElementById("designer").dataset.csrf },
        body: JSON.stringify(d.state.request),
      });
      return { status: res.status, ...d.checksumOf(await res.arrayBuffer()) };
    });
    assert.equal(full.status, 200);
    assert.equal(afterDrag.dots, full.dots, "as many dots drawn as the full pattern has");
    assert.equal(afterDrag.checksum, full.checksum, "the dots drawn are the full pattern's");
    // The quote followed the drag, in the same answers as the dots.
    assert.ok(afterDrag.plan && afterDrag.plan.sessions >= 1, `the plan's figures came with the dots: ${JSON.stringify(afterDrag.plan)}`);
    assert.match(afterDrag.figures, /^\d+ sessions · \d+\.\d\d h · [\d,]+ dots · /);
    const latencies = afterDrag.latencies.slice(latenciesBefore);
    assert.ok(latencies.length > 0, "at least one update during the drag");
    // Every pointer event of the drag (and the release's redraw) was drawn in the end.
    const eventLatencies = afterDrag.eventLatencies.slice(eventsBefore);
    assert.equal(eventLatencies.length, moves, "every pointer move is reflected in a drawing");
    report(latencies, eventLatencies, moves, afterDrag.superseded - before.superseded, afterDrag.timings.slice(timingsBefore), movedAt);

    // Zone handles: drag the crown's first handle; the zones become explicit and the dots change.
    await page.check("input[name=tool][value=zones]");
    const zoneBefore = await page.evaluate(() => ({
      checksum: window.follicleDesigner.checksum,
      updates: window.follicleDesigner.updates,
      kind: window.follicleDesigner.state.request.zones.kind,
    }));
    await page.evaluate(() => {
      const [, y] = window.follicleDesigner.zoneHandleClientXY("crown");
      window.scrollBy(0, y - window.innerHeight / 2);
    });
    const [zx, zy] = await page.evaluate(() => window.follicleDesigner.zoneHandleClientXY("crown"));
    await page.mouse.move(zx, zy);
    await page.mouse.down();
    for (let k = 1; k <= 10; k++) {
      await page.mouse.move(zx + k * 3, zy + k * 2);
      await page.waitForTimeout(16);
    }
    await page.mouse.up();
    await page.waitForFunction((n) => {
      const d = window.follicleDesigner;
      return !d.state.inFlight && !d.state.pending && !d.state.drag && d.updates > n;
    }, zoneBefore.updates, { timeout: 30_000 });
    const zoneAfter = await page.evaluate(() => ({
      checksum: window.follicleDesigner.checksum,
      kind: window.follicleDesigner.state.request.zones.kind,
    }));
    assert.equal(zoneBefore.kind, "stage");
    assert.equal(zoneAfter.kind, "explicit", "dragging a zone handle makes the zones explicit");
    assert.notEqual(zoneAfter.checksum, zoneBefore.checksum, "the dots follow the moved zone edge");

    // The tablet layout: the chart above the tools.
    const tablet = await newPage(TABLET);
    await signIn(tablet, OWNER, PASSWORD);
    await openDesigner(tablet, designId);
    await shot(tablet, "designer-tablet");
    await tablet.context().close();
  });

  function percentile(sorted, p) {
    const rank = Math.ceil((p / 100) * sorted.length) - 1;
    return sorted[Math.min(sorted.length - 1, Math.max(0, rank))];
  }

  function summary(latencies) {
    const sorted = latencies.slice().sort((a, b) => a - b);
    return { n: sorted.length, p50: percentile(sorted, 50), p95: percentile(sorted, 95), max: sorted[sorted.length - 1], min: sorted[0] };
  }

  function report(latencies, eventLatencies, moves, superseded, timings, movedAt) {
    const f = (x) => x.toFixed(1);
    const u = summary(latencies), e = summary(eventLatencies);
    const line = `designer drag latency (Norwood VII, chart view, ${u.n} updates): p50 ${f(u.p50)} ms, p95 ${f(u.p95)} ms, max ${f(u.max)} ms`;
    const eventLine = `every pointer event to its first drawing (${e.n} events): p50 ${f(e.p50)} ms, p95 ${f(e.p95)} ms, max ${f(e.max)} ms`;
    const partsLine = dragParts(timings, movedAt);
    console.log(line);
    console.log(eventLine);
    console.log(partsLine);
    let commit = "unknown";
    try {
      commit = execFileSync("git", ["rev-parse", "--short", "HEAD"], { cwd: REPO, encoding: "utf8" }).trim();
      const dirty = execFileSync("git", ["status", "--porcelain", "--untracked-files=no"], { cwd: REPO, encoding: "utf8" }).trim();
      if (dirty) commit += " (with uncommitted changes)";
    } catch { /* not a git checkout */ }
    const cpus = os.cpus();
    let nproc = String(os.availableParallelism?.() ?? cpus.length);
    try { nproc = execFileSync("nproc", { encoding: "utf8" }).trim(); } catch { /* no coreutils */ }
    const md = `# Designer drag latency

Measured by the end-to-end test \`e2e/tests/studio.test.mjs\` ("dragging a hairline point…"),
which \`scripts/e2e\` runs: headless Chromium opens the demo client Martin Kowalski's design
(Norwood VII, full coverage) in the designer at 1280×900, presses the mouse on a hairline point
and moves it in ${moves} steps of 1.5 px, each 16 ms after the browser took the last (the
interval they came at is in the figures), then lets go. Each is timed from the pointer event's own
time stamp (the page follows a drag by Chromium's \`pointerrawupdate\`, which comes as soon as the
pointer moves, not at the next frame as \`pointermove\` does). The view is the
chart (the designer has no photo view yet; issue 12 brings photos).

Each pointer move is an edit sent to the designer's edit session
(\`POST /api/v1/designer-sessions/{id}/edits\`, see \`follicle_web::designer\`): the server
draws the design as a preview (only the tiles whose density changed are sampled afresh; the
release is drawn exactly) and answers only the 16 mm tiles of the chart whose dots changed (a delta in
the binary format, version 2), with the plan's hours, sessions and price in the same answer;
the page replaces those tiles' dots and redraws. A newer edit supersedes an older one still
in flight. The server is the release build of \`follicle serve\` on the same machine. These
are benchmark figures, not pass/fail thresholds.

- **update latency**: for each drawn update, from the pointer event it was sent for to its
  dots on the canvas (\`window.follicleDesigner.latencies\`; the figure earlier runs reported).
- **event latency**: for every pointer event, from the event to the first drawing that includes
  it (\`eventLatencies\`; a superseded event counts until the newer edit is drawn).

    ${line}
    ${eventLine}
    ${partsLine}

| | updates | events |
| --- | --- | --- |
| count | ${u.n} | ${e.n} |
| p50 | ${f(u.p50)} ms | ${f(e.p50)} ms |
| p95 | ${f(u.p95)} ms | ${f(e.p95)} ms |
| max | ${f(u.max)} ms | ${f(e.max)} ms |
| min | ${f(u.min)} ms | ${f(e.min)} ms |

| | |
| --- | --- |
| date | ${new Date().toISOString().replace(/\.\d+Z$/, "Z")} |
| commit | ${commit} |
| server | the ${serverBuild()} build |
| machine | nproc ${nproc}, ${cpus[0]?.model?.trim() || "unknown CPU"}, ${Math.round(os.totalmem() / 2 ** 30)} GiB memory, ${os.type()} ${os.release()} |
| load average (1, 5, 15 min) at the end | ${os.loadavg().map((l) => l.toFixed(2)).join(", ")} (other work on the machine slows the server and the browser) |
| browser | Chromium ${browser.version()} (headless), playwright-core |
| pointer moves | ${moves} |
| edits superseded (aborted in flight, or replaced while waiting) | ${superseded} |

Update latencies of this run (ms, in order): ${latencies.map(f).join(", ")}

Event latencies of this run (ms, in order): ${eventLatencies.map(f).join(", ")}

The file is rewritten by every run of \`scripts/e2e\`.
`;
    fs.mkdirSync(path.dirname(BENCH), { recursive: true });
    fs.writeFileSync(BENCH, md);
  }
});

describe("session log", () => {
  test("a session with the valid batch is on the timeline; one with the expired batch warns", async () => {
    const id = need("newClient");
    // No consent for the design, no session (tests/portal.rs): the client signs it at the chair.
    await signTreatmentAtChair(page, server.url, id, "Tomasz Nowak");
    await shot(page, "consents-at-the-clinic");
    await page.goto(`/clients/${id}`);
    await Promise.all([page.waitForURL(`${server.url}/clients/${id}/sessions/new`), page.click("#log-session")]);
    assert.match(await page.inputValue("#performed_on"), /^\d{4}-\d{2}-\d{2}$/, "today's date is filled in");

    const options = await page.$$eval("#batch_id option", (os) => os.map((o) => ({ value: o.value, text: o.textContent.trim() })));
    const valid = options.find((o) => o.text.includes("SB1-2026-031"));
    const expired = options.find((o) => o.text.includes("SB1-2025-007"));
    assert.ok(valid && !valid.text.startsWith("EXPIRED"), `the valid batch is offered unmarked: ${JSON.stringify(options)}`);
    assert.ok(expired && expired.text.startsWith("EXPIRED ·"), "the expired batch is marked");

    await page.fill("#duration_minutes", "150");
    await page.selectOption("#batch_id", valid.value);
    await page.check('input[name=zones][value="hairline"]');
    await page.check('input[name=zones][value="frontal"]');
    await page.fill("#water_percent", "30"); // the mix in the plan's words: 30 % water
    await page.fill("#depth_mm", "0.8");
    await page.fill("#needle", "1RL 0.25 mm");
    await page.fill("#needle_lot", "NL-E2E-0001");
    await page.fill("#machine_settings", "7.5 V, 3.5 mm stroke");
    await page.fill("#anaesthetic", "");
    await page.fill("#notes", "First session, end-to-end test.");
    await shot(page, "session-log");
    await Promise.all([page.waitForURL(`${server.url}/clients/${id}`), page.getByRole("button", { name: "Save session" }).click()]);
    assert.equal(await page.locator("#warning").count(), 0, "no warning for a valid batch");
    const entry = page.locator("ol#timeline li", { hasText: "First session, end-to-end test." });
    assert.equal(await entry.count(), 1);
    const text = await entry.textContent();
    assert.match(text, /Session/);
    assert.match(text, /150 min · zones hairline, frontal · needle 1RL 0\.25 mm \(lot NL-E2E-0001\)/);

    // The expired batch: refused at the chair; with the reason given, the record is kept,
    // with a warning.
    await page.goto(`/clients/${id}/sessions/new`);
    await page.fill("#duration_minutes", "60");
    await page.selectOption("#batch_id", expired.value);
    await page.check('input[name=zones][value="crown"]');
    await page.fill("#needle", "1RL 0.25 mm");
    await page.fill("#needle_lot", "NL-E2E-0002");
    await page.fill("#notes", "Expired batch, end-to-end test.");
    await page.getByRole("button", { name: "Save session" }).click();
    await page.waitForSelector("#batch_id-error");
    assert.match(await page.textContent("#batch_id-error"), /lot SB1-2025-007 expired on .*refused at the chair/);
    await page.fill("#batch_override", "the last of the lot, the client agreed after the risks were explained");
    await Promise.all([page.waitForURL(`${server.url}/clients/${id}?warning=expired-batch`), page.getByRole("button", { name: "Save session" }).click()]);
    assert.match(await page.textContent("p#warning"), /pigment batch had expired/);
    assert.equal(await page.locator("ol#timeline li", { hasText: "Expired batch, end-to-end test." }).count(), 1);
  });
});

describe("pigments and recall", () => {
  test("the valid batch's recall lists the new client, whose link opens the record", async () => {
    need("newClient");
    await page.goto("/pigments");
    const row = page.locator("table#batches tbody tr", { hasText: "SB1-2026-031" });
    assert.equal(await row.count(), 1);
    assert.equal(await page.locator("table#batches tbody tr", { hasText: "SB1-2025-007" }).locator(".pill.bad").count(), 1, "the expired batch is marked");
    await shot(page, "pigments");
    await Promise.all([page.waitForURL(new RegExp(`/pigments/batches/${UUID}$`)), row.getByRole("link", { name: "Who received it" }).click()]);
    assert.match(await page.textContent("h1"), /SB1-2026-031/);
    const link = page.locator("table#recall a", { hasText: "Tomasz Nowak" });
    assert.equal(await link.count(), 1, "the client treated with the batch is listed once");
    await shot(page, "recall");
    await Promise.all([page.waitForURL(`${server.url}/clients/${shared.newClient}`), link.click()]);
    assert.equal((await page.textContent("h1#client-name")).trim(), "Tomasz Nowak");

    // And the expired batch's recall also names them (the session was logged).
    await page.goto("/pigments");
    await page.locator("table#batches tbody tr", { hasText: "SB1-2025-007" }).getByRole("link", { name: "Who received it" }).click();
    await page.waitForSelector("table#recall");
    assert.equal(await page.locator("table#recall a", { hasText: "Tomasz Nowak" }).count(), 1);
  });
});

describe("photos", () => {
  test("an uploaded photo comes back as a JPEG without EXIF or GPS", async () => {
    const id = need("newClient");
    // The fixture itself carries EXIF with a GPS position.
    const original = fs.readFileSync(FIXTURE);
    const exif = exifSegments(original);
    assert.equal(exif.length, 1, "the fixture has an EXIF block");
    const { ifd0, gps } = readExif(exif[0]);
    assert.equal(ifd0.get(0x010f)?.value, "FollicleTestCam", "the fixture names its camera");
    assert.ok(gps, "the fixture has a GPS directory");
    assert.equal(gps.get(1)?.value, "N");
    assert.deepEqual(gps.get(2)?.value, [51, 30, 26]);
    assert.ok(original.includes(Buffer.from("GPS")), "the fixture holds the bytes GPS");

    await page.goto(`/clients/${id}`);
    await page.selectOption("select#angle", "front");
    await page.setInputFiles("input#photo", FIXTURE);
    await Promise.all([page.waitForURL(`${server.url}/clients/${id}#photos`), page.getByRole("button", { name: "Upload photo" }).click()]);
    assert.equal(await page.locator("#photo-error").count(), 0);
    const img = page.locator('#photos img[src^="/api/v1/photos/"]');
    assert.equal(await img.count(), 1);
    await page.waitForFunction(() => {
      const i = document.querySelector('#photos img[src^="/api/v1/photos/"]');
      return i && i.complete && i.naturalWidth > 0;
    });
    assert.equal(await img.evaluate((i) => i.naturalWidth), 640);
    assert.match(await page.textContent("ol#timeline"), /Photo \(front\)/);

    const src = await img.getAttribute("src");
    const res = await page.request.get(src);
    assert.equal(res.status(), 200);
    assert.equal(res.headers()["content-type"], "image/jpeg");
    const bytes = await res.body();
    assert.equal(bytes[0], 0xff);
    assert.equal(bytes[1], 0xd8, "a JPEG");
    assert.deepEqual(frameSize(bytes), { width: 640, height: 480 });
    assert.equal(exifSegments(bytes).length, 0, "no APP1 Exif segment");
    assert.ok(!bytes.includes(Buffer.from("Exif", "latin1")), "no Exif bytes at all");
    assert.ok(!bytes.includes(Buffer.from("GPS", "latin1")), "no GPS bytes");
    assert.ok(!bytes.includes(Buffer.from("FollicleTestCam", "latin1")), "no camera name");
    shared.newPhoto = src.split("/").pop();

    // Signed out, the photo is not given.
    const anonymous = await browser.newContext();
    const denied = await anonymous.request.get(`${server.url}${src}`);
    assert.ok([401, 403].includes(denied.status()), `anonymous photo request: ${denied.status()}`);
    await anonymous.close();
  });
});

describe("clinics are kept apart", () => {
  test("another clinic's owner gets Not found for the first clinic's client, photo and design", async () => {
    const client = need("norwood7");
    const photo = need("norwood7Photo");
    const design = need("norwood7Design");
    const other = await newPage();
    try {
      await signIn(other, "owner@other.test", "other-clinic-pass");
      assert.match(await other.textContent("header .who"), /Olu Other/);

      const res = await other.goto(`/clients/${client}`);
      assert.equal(res.status(), 404);
      assert.equal((await other.textContent("h1")).trim(), "Not found");
      assert.doesNotMatch(await other.content(), new RegExp(NORWOOD_VII));

      const photoRes = await other.request.get(`/api/v1/photos/${photo}`);
      assert.equal(photoRes.status(), 404);
      assert.doesNotMatch(photoRes.headers()["content-type"] || "", /image/);
      const photoPage = await other.goto(`/api/v1/photos/${photo}`);
      assert.equal(photoPage.status(), 404);

      const designRes = await other.goto(`/designs/${design}`);
      assert.equal(designRes.status(), 404);
      assert.equal((await other.textContent("h1")).trim(), "Not found");
      assert.equal(await other.locator("canvas#chart").count(), 0);

      for (const url of [`/clients/${client}/consult`, `/clients/${client}/sessions/new`]) {
        const r = await other.goto(url);
        assert.equal(r.status(), 404, url);
      }
      // Their own client list does not show the demo clinic's clients.
      await other.goto("/clients?q=Kowalski");
      assert.match(await other.textContent("main"), /No client matches/);

      // The first clinic still sees its own: the 404 is about the clinic, not the record.
      const own = await page.goto(`/clients/${client}`);
      assert.equal(own.status(), 200);
      // An unknown id is Not found too.
      const unknown = await page.goto("/clients/00000000-0000-4000-8000-000000000000");
      assert.equal(unknown.status(), 404);
      assert.equal((await page.textContent("h1")).trim(), "Not found");
    } finally {
      await other.context().close();
    }
  });
});

describe("settings", () => {
  test("the owner sees the clinic's settings and users; a practitioner may not", async () => {
    await page.goto("/settings");
    assert.equal((await page.textContent("h1")).trim(), "Settings");
    assert.ok(await page.isVisible("#settings_toml"), "the file can still be exported and imported");
    assert.ok(await page.locator("form#figures details.figures").count() > 5, "the figures form, by section");
    const users = await page.locator("table#users tbody tr").allTextContents();
    assert.equal(users.length, 3, "the demo's three users");
    assert.ok(users.some((u) => u.includes(PRACTITIONER)));
    await shot(page, "settings");

    const practitioner = await newPage();
    try {
      await signIn(practitioner, PRACTITIONER, PASSWORD);
      assert.equal(await practitioner.locator('nav a[href="/settings"]').count(), 0, "no Settings tab");
      const res = await practitioner.goto("/settings");
      assert.equal(res.status(), 403);
    } finally {
      await practitioner.context().close();
    }
  });
});

describe("keyboard", () => {
  test("sign in and search clients with the keyboard only", async () => {
    const p = await newPage();
    try {
      await p.goto("/login");
      // The email field has the focus on arrival (the browser applies `autofocus` at its next
      // rendering step, which may come just after the load event: wait for it, up to 5 s).
      await p.waitForFunction(() => document.activeElement?.id === "email", null, { timeout: 5_000 }).catch(() => {});
      assert.equal(await p.evaluate(() => document.activeElement?.id), "email");
      await p.keyboard.type(PRACTITIONER);
      await p.keyboard.press("Tab");
      assert.equal(await p.evaluate(() => document.activeElement?.id), "password");
      await p.keyboard.type(PASSWORD);
      await Promise.all([p.waitForURL(`${server.url}/`), p.keyboard.press("Enter")]);

      // Tab to the Clients tab (the skip link and the brand come first), Enter.
      let onClients = false;
      for (let k = 0; k < 10 && !onClients; k++) {
        await p.keyboard.press("Tab");
        onClients = await p.evaluate(() => document.activeElement?.getAttribute("href") === "/clients" && !!document.activeElement.closest("nav"));
      }
      assert.ok(onClients, "the Clients tab is reached with Tab");
      await Promise.all([p.waitForURL(`${server.url}/clients`), p.keyboard.press("Enter")]);

      // The search box has the focus (autofocus, applied at the next rendering step: wait for it).
      await p.waitForFunction(() => document.activeElement?.id === "q", null, { timeout: 5_000 }).catch(() => {});
      assert.equal(await p.evaluate(() => document.activeElement?.id), "q");
      await p.keyboard.type("Mensah");
      await Promise.all([p.waitForURL(/\/clients\?q=Mensah$/), p.keyboard.press("Enter")]);
      const names = await p.locator("#client-results tbody tr td:first-child").allTextContents();
      assert.deepEqual(names.map((n) => n.trim()), ["Kwame Mensah"]);

      // Tab on to the result and open it.
      let onResult = false;
      for (let k = 0; k < 10 && !onResult; k++) {
        await p.keyboard.press("Tab");
        onResult = await p.evaluate(() => document.activeElement?.textContent.trim() === "Kwame Mensah");
      }
      assert.ok(onResult, "the result is reached with Tab");
      const focusVisible = await p.evaluate(() => getComputedStyle(document.activeElement).outlineStyle !== "none");
      assert.ok(focusVisible, "the focused link shows a focus outline");
      await Promise.all([p.waitForURL(new RegExp(`/clients/${UUID}$`)), p.keyboard.press("Enter")]);
      assert.equal((await p.textContent("h1#client-name")).trim(), "Kwame Mensah");
    } finally {
      await p.context().close();
    }
  });
});
