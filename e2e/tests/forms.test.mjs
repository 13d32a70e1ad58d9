// End-to-end tests of the studio's two big forms in real Chromium: the consultation wizard
// (everything a client file holds, every mistake at once beside its field, the first session
// on the next bookable day) and the settings form generated from the settings schema (a bad
// value changes nothing saved; a good one is saved as the clinic's own).
//
// Its own server and browser (fresh data directory, the demo clinic); writes nothing but a
// screenshot of each form under $FOLLICLE_E2E_OUT (default e2e/out, ignored by git).
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";

import { DESKTOP, launch } from "../lib/browser.mjs";
import { REPO, startServer } from "../lib/server.mjs";

const PASSWORD = "follicle-demo";
const OWNER = "owner@demo.follicle.test";
const OUT = process.env.FOLLICLE_E2E_OUT || path.join(REPO, "e2e", "out");
const SHOTS = path.join(OUT, "screenshots");
const UUID = "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}";

let server;
let browser;
let page;

/** YYYY-MM-DD of today plus `days`, in UTC (the server's clock). */
function isoDay(days) {
  const d = new Date();
  d.setUTCDate(d.getUTCDate() + days);
  return d.toISOString().slice(0, 10);
}

async function post(p, url, click) {
  const [res] = await Promise.all([
    p.waitForResponse((r) => new URL(r.url()).pathname === url && r.request().method() === "POST"),
    click(),
  ]);
  return res;
}

before(async () => {
  server = await startServer();
  browser = await launch();
  const context = await browser.newContext({ viewport: DESKTOP, baseURL: server.url });
  page = await context.newPage();
  page.setDefaultTimeout(20_000);
  page.setDefaultNavigationTimeout(30_000);
  await page.goto("/login");
  await page.fill("#email", OWNER);
  await page.fill("#password", PASSWORD);
  await Promise.all([page.waitForURL(`${server.url}/`), page.getByRole("button", { name: "Sign in" }).click()]);
});

after(async () => {
  await browser?.close().catch(() => {});
  await server?.stop();
});

describe("consultation wizard", () => {
  test("several mistakes are shown at once beside their fields, the answers kept; corrected, it saves the client file", async () => {
    await page.goto("/clients/new");
    await page.fill("#name", "Ines Duarte");
    await page.fill("#age", "52");
    await Promise.all([page.waitForURL(new RegExp(`/clients/${UUID}$`)), page.getByRole("button", { name: "Save client" }).click()]);
    const id = new URL(page.url()).pathname.split("/").pop();
    const consult = `/clients/${id}/consult`;
    await page.goto(consult);

    // The first session is proposed on a coming working day (the demo works Monday–Saturday).
    const start = await page.inputValue("#start");
    assert.ok(start > isoDay(0) && start <= isoDay(2), `first session ${start} is the next working day`);
    assert.notEqual(new Date(`${start}T12:00:00Z`).getUTCDay(), 0, "not a Sunday");

    // Mistakes on four steps, all in one go.
    await page.fill("#age", "150");
    await page.getByRole("button", { name: "Next: Skin and hair" }).click();
    await page.selectOption("#hair_colour", "grey");
    await page.fill("#grey_percent", "10");
    await page.selectOption("#keloid_history", "no");
    await page.getByRole("button", { name: "Next: Hair loss and head" }).click();
    await page.fill("#head_circumference_cm", "57.5");
    await page.getByRole("button", { name: "Next: Scars" }).click();
    await page.selectOption("#scar0_kind", "injury");
    await page.selectOption("#scar0_site", "crown");
    await page.fill("#scar0_length_mm", "900");
    await page.fill("#scar0_width_mm", "3");
    // A second scar, added by the script without a reload.
    await page.click("#add-scar");
    await page.selectOption("#scar1_kind", "fue");
    await page.selectOption("#scar1_site", "donor");
    await page.fill("#scar1_count", "many");
    await page.getByRole("button", { name: "Next: Medical" }).click();
    await page.check("#med_isotretinoin");
    await page.fill("#stopped_isotretinoin", isoDay(30)); // a stop date in the future
    await page.selectOption("#event0_kind", "hair_transplant");
    await page.fill("#event0_date", "2023-09-12");
    await page.getByRole("button", { name: "Next: Lifestyle and goals" }).click();
    await page.check('input[name=aims][value="density"]'); // with full coverage: one or the other

    const res = await post(page, consult, () => page.click("#assess"));
    assert.equal(res.status(), 422);
    const expected = {
      age: /Expected 0–120 years, got 150/,
      grey_percent: /Hair colour is grey but only 10% is grey/,
      scar0_length_mm: /Expected 1–300 mm, got 900/,
      scar1_count: /Punches: expected a whole number, got "many"/,
      stopped_isotretinoin: /is after the assessment date/,
      aims: /Full coverage \(a shaved look\) and density .* exclude each other/,
    };
    for (const [field, words] of Object.entries(expected)) {
      const error = page.locator(`#${field}-error`);
      assert.match(await error.textContent(), words, field);
      assert.equal(await page.getAttribute(`#${field}`, "aria-describedby"), `${field}-error`, `${field} points at its error`);
    }
    assert.equal(await page.locator("p.field-error").count(), Object.keys(expected).length, "no other field is marked");
    assert.match(await page.textContent("#error-summary"), /6 answers need a second look/);
    assert.doesNotMatch(await page.textContent("main"), /line \d+/, "no client-file line numbers");
    // What was typed is kept, including the row the script added.
    assert.equal(await page.inputValue("#age"), "150");
    assert.equal(await page.inputValue("#scar1_count"), "many");
    assert.equal(await page.inputValue("#head_circumference_cm"), "57.5");
    assert.equal(await page.inputValue("#event0_date"), "2023-09-12");
    assert.equal(await page.inputValue("#keloid_history"), "no");
    assert.ok(await page.isChecked('input[name=aims][value="density"]'));
    assert.equal(await page.locator("#save-consultation").count(), 0, "nothing to save yet");
    // The first step with a mistake is the one shown.
    assert.ok(await page.isVisible("#age"));
    fs.mkdirSync(SHOTS, { recursive: true });
    await page.screenshot({ path: path.join(SHOTS, "consultation-errors.png"), fullPage: true });

    // Corrected, step by step.
    await page.fill("#age", "52");
    await page.getByRole("button", { name: "Next: Skin and hair" }).click();
    await page.fill("#grey_percent", "60");
    await page.getByRole("button", { name: "Next: Hair loss and head" }).click();
    await page.getByRole("button", { name: "Next: Scars" }).click();
    await page.fill("#scar0_length_mm", "40");
    await page.fill("#scar1_count", "300");
    await page.getByRole("button", { name: "Next: Medical" }).click();
    await page.fill("#stopped_isotretinoin", isoDay(-400));
    await page.getByRole("button", { name: "Next: Lifestyle and goals" }).click();
    await page.uncheck('input[name=aims][value="density"]');
    await page.check('input[name=aims][value="scar_camouflage"]');
    const ok = await post(page, consult, () => page.click("#assess"));
    assert.equal(ok.status(), 200);
    await page.waitForSelector("section#result");
    assert.equal(await page.locator("p.field-error").count(), 0);

    await Promise.all([page.waitForURL(`${server.url}/clients/${id}`), page.click("#save-consultation")]);
    const consultations = await (await page.request.get(`/api/v1/clients/${id}/consultations`)).json();
    assert.equal(consultations.length, 1);
    const file = consultations[0].profile_toml;
    for (const line of [
      "age = 52",
      "keloid_history = false",
      "grey_percent = 60",
      "[[scars]]\nkind = \"injury\"\nsite = \"crown\"\nlength_mm = 40\nwidth_mm = 3",
      "[[scars]]\nkind = \"fue\"\nsite = \"donor\"\ncount = 300",
      `{ name = "isotretinoin", stopped = ${isoDay(-400)} }`,
      'events = [{ kind = "hair_transplant", date = 2023-09-12 }]',
      'aims = ["full_coverage", "scar_camouflage"]',
      "circumference_cm = 57.5",
    ]) {
      assert.ok(file.includes(line), `the client file has ${JSON.stringify(line)}:\n${file}`);
    }
  });
});

describe("settings form", () => {
  test("a bad value is shown beside its field and saves nothing; a good one is saved as the clinic's own", async () => {
    const clinic = async () => (await (await page.request.get("/api/v1/clinic")).json()).settings_toml;
    const before = await clinic();
    await page.goto("/settings");
    const days = page.locator('[name="intervals.default_days"]');
    const working = page.locator('[name="intervals.working_days"]');
    await page.click("#section-intervals summary");
    assert.equal(await days.inputValue(), "14");
    assert.match(await page.textContent("#section-intervals"), /Default: 14 · .*DOMAIN §1/);

    await days.fill("three weeks");
    await working.fill("mon, tue, funday");
    const bad = await post(page, "/settings", () => page.click("#save-figures"));
    assert.equal(bad.status(), 422);
    assert.match(await page.textContent("#fig-intervals-default_days-error"), /Enter a whole number, such as 14; "three weeks" is not one/);
    assert.match(await page.textContent("#fig-intervals-working_days-error"), /funday/);
    assert.equal(await days.getAttribute("aria-describedby"), "fig-intervals-default_days-error");
    assert.match(await page.textContent("#settings-errors"), /Nothing was saved: 2 values need a second look/);
    assert.equal(await days.inputValue(), "three weeks", "what was typed is kept");
    assert.ok(await page.locator("#section-intervals").evaluate((d) => d.open), "the section with the mistake is open");
    assert.equal(await clinic(), before, "nothing saved");

    await days.fill("21");
    await working.fill("mon, tue, wed, thu, fri, sat");
    await Promise.all([page.waitForURL(`${server.url}/settings?saved=1`), page.click("#save-figures")]);
    assert.match(await page.textContent("[role=status]"), /Settings saved/);
    const saved = await clinic();
    assert.match(saved, /\[intervals\]\s+default_days = 21/);
    assert.doesNotMatch(saved, /working_days/, "a figure equal to its default is not stored");
    assert.equal(await days.inputValue(), "21");
    assert.match(await page.textContent('label[for="fig-intervals-default_days"]'), /clinic/);
    // The exported file shows the same.
    assert.match(await page.inputValue("#settings_toml"), /default_days = 21/);
    fs.mkdirSync(SHOTS, { recursive: true });
    await page.screenshot({ path: path.join(SHOTS, "settings-form.png"), fullPage: false });
  });
});
