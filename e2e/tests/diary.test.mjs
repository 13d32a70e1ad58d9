// End-to-end tests of the diary (issue 14, items 1 and 2) in real Chromium: a plan's three
// sessions booked in one step from the client's page; a double booking refused with a message
// naming the appointment it clashes with; a reschedule by dragging in the week view; session 1
// logged from its appointment → the appointment completed, the batch's stock reduced, the five
// standard photos asked for; a visit put in a room and taken out of it again.
//
// Its own server and browser (fresh data directory, the demo clinic); writes screenshots of
// the week and day views under $FOLLICLE_E2E_OUT (default e2e/out, ignored by git).
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";

import { DESKTOP, launch } from "../lib/browser.mjs";
import { signTreatmentAtChair } from "../lib/consent.mjs";
import { REPO, startServer } from "../lib/server.mjs";

const PASSWORD = "follicle-demo";
const OWNER = "owner@demo.follicle.test";
const OUT = process.env.FOLLICLE_E2E_OUT || path.join(REPO, "e2e", "out");
const SHOTS = path.join(OUT, "screenshots");
const UUID = "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}";

// Norwood III, density: three sessions (examples/clients/norwood-3-hairline.toml, renamed).
const CLIENT_FILE = `[client]
name = "Daniel Reyes"
age = 34
sex = "male"
[skin]
fitzpatrick = "III"
type = "normal"
[hair]
colour = "dark_brown"
grey_percent = 5
[hair_loss]
scale = "norwood"
stage = "III"
[lifestyle]
sun_exposure = "moderate"
gym = true
[goal]
aims = ["density"]
hairline_style = "broken"
`;

let server;
let browser;
let context;
let page;
const shared = {};

/** YYYY-MM-DD of today plus `days`, in UTC (the server's clock). */
function isoDay(days) {
  const d = new Date();
  d.setUTCDate(d.getUTCDate() + days);
  return d.toISOString().slice(0, 10);
}

async function shot(p, name) {
  fs.mkdirSync(SHOTS, { recursive: true });
  await p.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: true, animations: "disabled", caret: "hide" });
}

/** A JSON call to the API with the page's session (cookie and CSRF token). */
async function api(method, url, body) {
  const cookies = await context.cookies();
  const csrf = cookies.find((c) => c.name === "follicle_csrf")?.value ?? "";
  const res = await page.request.fetch(`${server.url}/api/v1${url}`, {
    method,
    headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf },
    data: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status(), body: await res.json().catch(() => null) };
}

async function newClient(name) {
  await page.goto("/clients/new");
  await page.fill("#name", name);
  await Promise.all([page.waitForURL(new RegExp(`/clients/${UUID}$`)), page.getByRole("button", { name: "Save client" }).click()]);
  return new URL(page.url()).pathname.split("/").pop();
}

function need(key) {
  assert.ok(shared[key], `an earlier test sets ${key}`);
  return shared[key];
}

before(async () => {
  server = await startServer();
  browser = await launch();
  context = await browser.newContext({ viewport: DESKTOP, baseURL: server.url });
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

describe("the diary", () => {
  test("a plan's three sessions are booked in one step from the client's page", async () => {
    const id = await newClient("Daniel Reyes");
    shared.client = id;
    // The consultation (the wizard has its own test): the client file planned from two weeks on.
    const recorded = await api("POST", `/clients/${id}/consultations`, { client_toml: CLIENT_FILE, start: isoDay(14) });
    assert.equal(recorded.status, 201, JSON.stringify(recorded.body));
    const planned = recorded.body.plan.sessions;
    assert.equal(planned.length, 3, "Norwood III for density: three sessions");

    await page.goto(`/clients/${id}`);
    const form = page.locator("form#book-plan");
    assert.match(await form.textContent(), /3 sessions/);
    const first = await page.inputValue("#plan-date");
    assert.equal(first, planned[0].date, "session 1 is offered on the plan's day");
    assert.equal(await page.inputValue("#plan-time"), planned[0].start_time);
    await Promise.all([
      page.waitForURL(new RegExp(`/clients/${id}\\?booked=3`)),
      page.getByRole("button", { name: "Book all sessions" }).click(),
    ]);
    assert.match(await page.textContent("#booked"), /Booked: 3 appointments/);
    const items = page.locator("#appointment-list li");
    assert.equal(await items.count(), 3);
    const booked = (await api("GET", `/clients/${id}/appointments`)).body;
    assert.equal(booked.length, 3);
    for (const [n, a] of booked.entries()) {
      assert.equal(a.session_index, n + 1);
      assert.equal(a.kind, "session");
      assert.equal(a.status, "booked");
      assert.equal(a.starts_at.slice(0, 10), planned[n].date, `session ${n + 1} on the plan's day`);
      assert.match(await items.nth(n).textContent(), new RegExp(`session ${n + 1}`));
    }
    shared.appointments = booked;
  });

  test("a double booking is refused, naming the appointment it clashes with", async () => {
    const [session1] = need("appointments");
    const other = await newClient("Kim Park");
    await page.goto(`/clients/${other}`);
    const day = session1.starts_at.slice(0, 10);
    await page.selectOption("#visit-kind", "patch_test");
    await page.fill("#visit-date", day);
    await page.fill("#visit-time", "10:30");
    await page.fill("#visit-minutes", "30");
    await page.selectOption("#visit-practitioner", session1.practitioner_id);
    const [res] = await Promise.all([
      page.waitForResponse((r) => r.url().endsWith(`/clients/${other}/book-visit`) && r.request().method() === "POST"),
      page.getByRole("button", { name: "Book", exact: true }).click(),
    ]);
    assert.equal(res.status(), 422);
    const error = await page.textContent("#visit-practitioner-error");
    assert.match(error, /Ana Okafor is already booked then: Daniel Reyes's session on \d{4}-\d{2}-\d{2} 10:00–\d{2}:\d{2}/);
    assert.ok(error.includes(`(appointment ${session1.id})`), error);
    assert.equal(await page.getAttribute("#visit-practitioner", "aria-describedby"), "visit-practitioner-error");
    assert.equal(await page.inputValue("#visit-time"), "10:30", "what was typed is kept");
    assert.equal((await api("GET", `/clients/${other}/appointments`)).body.length, 0, "nothing booked");
    // The API says the same, as a conflict.
    const again = await api("POST", "/appointments", {
      client_id: other,
      practitioner_id: session1.practitioner_id,
      starts_at: `${day}T10:30:00Z`,
      duration_minutes: 30,
      notes: "",
      kind: "patch_test",
    });
    assert.equal(again.status, 409);
    assert.ok(again.body.error.message.includes(session1.id), again.body.error.message);
    // In the past, on a Sunday, outside the hours: the field, the value and what is allowed.
    const past = await api("POST", "/appointments", {
      client_id: other, practitioner_id: null, starts_at: `${isoDay(-1)}T10:00:00Z`, duration_minutes: 30, notes: "",
    });
    assert.equal(past.status, 422);
    assert.equal(past.body.error.field, "starts_at");
    assert.match(past.body.error.message, /is in the past; book from now/);
  });

  test("an appointment is rescheduled by dragging it in the week view", async () => {
    const [session1] = need("appointments");
    const day = session1.starts_at.slice(0, 10);
    await page.goto(`/diary?view=week&date=${day}`);
    await shot(page, "diary-week");
    const cell = page.locator(`td.appt[data-id="${session1.id}"]`);
    assert.equal(await cell.count(), 1, "session 1 is in the week view");
    assert.match(await cell.textContent(), /Daniel Reyes/);
    // One day later (or earlier when that is a Sunday), 10:00, in the same practitioner's column.
    const d = new Date(`${day}T00:00:00Z`);
    d.setUTCDate(d.getUTCDate() + (d.getUTCDay() === 6 ? -1 : 1));
    const target = `${d.toISOString().slice(0, 10)}T10:00:00Z`;
    const slot = page.locator(`td.slot[data-starts-at="${target}"][data-practitioner="${session1.practitioner_id}"]`);
    assert.equal(await slot.count(), 1, `a free slot at ${target}`);
    const from = await cell.boundingBox();
    const to = await slot.boundingBox();
    // Taken by the cell's lower part (its link, at the top, opens the appointment instead).
    await page.mouse.move(from.x + from.width / 2, from.y + from.height - 5);
    await page.mouse.down();
    await page.mouse.move(to.x + to.width / 2, to.y + to.height / 2, { steps: 12 });
    await page.mouse.up();
    await page.waitForFunction(
      () => window.location.search.includes("moved=1") || document.getElementById("diary-message").className === "error",
    );
    assert.match(page.url(), /moved=1/, await page.textContent("#diary-message"));
    assert.match(await page.textContent("#diary-message"), /The appointment is moved/);
    const moved = (await api("GET", `/appointments/${session1.id}`)).body;
    assert.equal(moved.starts_at, target);
    assert.match(moved.history.at(-1).what, /^moved from .* to .*10:00$/);
    assert.equal(await page.locator(`td.appt[data-id="${session1.id}"]`).count(), 1, "shown at its new time");
    await page.goto(`/diary?view=day&date=${target.slice(0, 10)}`);
    assert.equal(await page.locator(`td.appt[data-id="${session1.id}"]`).count(), 1, "and in that day's view");
    await shot(page, "diary-day");
    shared.session1Day = target.slice(0, 10);
  });

  test("session 1 logged from its appointment: completed, stock reduced, photos asked for", async () => {
    const [session1] = need("appointments");
    const id = need("client");
    const batches = (await api("GET", "/pigments/batches")).body;
    const batch = batches.find((b) => b.lot === "SB1-2026-031");
    assert.ok(batch, "the demo's valid batch");
    // No session without the treatment consent for the design: signed at the chair first.
    await signTreatmentAtChair(page, server.url, id, "Daniel Reyes");
    await page.goto(`/clients/${id}`);
    await Promise.all([
      page.waitForURL(`${server.url}/appointments/${session1.id}/session`),
      page.locator("#appointment-list li", { hasText: "session 1" }).getByRole("link", { name: "Log this session" }).click(),
    ]);
    // Prefilled from the planned session, the mix in the plan's own words.
    const planned = await page.textContent("#planned");
    assert.match(planned, /Session 1 .*zones .*needle .*% water · about [\d]+ dots/);
    const water = planned.match(/(\d+) % water/)[1];
    assert.equal(await page.inputValue("#water_percent"), water);
    assert.notEqual(await page.inputValue("#needle"), "");
    assert.ok((await page.locator("input[name=zones]:checked").count()) >= 1, "the plan's zones are ticked");
    assert.equal(await page.inputValue("#performed_on"), shared.session1Day);
    assert.equal(await page.inputValue("#pigment_units"), "1");
    await page.selectOption("#batch_id", batch.id);
    await page.fill("#needle_lot", "NL-DIARY-0001");
    await Promise.all([
      page.waitForURL(new RegExp(`/sessions/${UUID}/logged$`)),
      page.getByRole("button", { name: "Save session" }).click(),
    ]);
    assert.match(await page.textContent("#logged-done"), /marked completed/);
    assert.match(await page.textContent("#stock"), new RegExp(`1 taken off lot SB1-2026-031: ${batch.quantity - 1} left in stock`));
    const photos = page.locator("#photos-asked a.button");
    assert.deepEqual(await photos.allTextContents(), ["front", "top", "left", "right", "back"]);
    const session = new URL(page.url()).pathname.split("/")[2];
    await shot(page, "session-logged");

    const appointment = (await api("GET", `/appointments/${session1.id}`)).body;
    assert.equal(appointment.status, "completed");
    assert.equal(appointment.history.at(-1).what, "completed (session logged)");
    const after = (await api("GET", `/pigments/batches/${batch.id}`)).body;
    assert.equal(after.quantity, batch.quantity - 1);

    // The photo link opens the capture page for this session.
    await Promise.all([page.waitForURL(/\/photos\/new\?angle=front/), page.click("#photo-front")]);
    assert.equal(await page.inputValue("#taken-for"), `session:${session}`);
  });

  test("a visit is put in a room on its page, shown in that room's column, and taken out again", async () => {
    const [, session2] = need("appointments");
    const slotIn = (at, room) => page.locator(`td.slot[data-starts-at="${at}"][data-room="${room}"]`);
    await page.goto(`/appointments/${session2.id}`);
    assert.deepEqual(await page.locator("#room option").allTextContents(), ["No room", "Room 1", "Room 2"]);
    assert.equal(await page.inputValue("#room"), "", "booked without a room");
    await page.selectOption("#room", "Room 2");
    await Promise.all([page.waitForURL(/moved=1/), page.getByRole("button", { name: "Move" }).click()]);
    const inRoom = (await api("GET", `/appointments/${session2.id}`)).body;
    assert.equal(inRoom.room, "Room 2");
    assert.equal(inRoom.starts_at, session2.starts_at, "the time is kept");
    assert.match(inRoom.history.at(-1).what, /from no room to Room 2$/);
    // By room: Room 2 is taken at that time, Room 1 is free.
    const day = session2.starts_at.slice(0, 10);
    await page.goto(`/diary?view=day&date=${day}&by=room`);
    assert.equal(await page.locator(`td.appt[data-id="${session2.id}"]`).count(), 1);
    assert.equal(await slotIn(session2.starts_at, "Room 2").count(), 0, "Room 2's slot is the visit");
    assert.equal(await slotIn(session2.starts_at, "Room 1").count(), 1, "Room 1 is free then");
    await shot(page, "diary-day-by-room");
    // Out of the room again: the form's "No room".
    await page.goto(`/appointments/${session2.id}`);
    assert.equal(await page.inputValue("#room"), "Room 2");
    await page.selectOption("#room", "");
    await Promise.all([page.waitForURL(/moved=1/), page.getByRole("button", { name: "Move" }).click()]);
    const out = (await api("GET", `/appointments/${session2.id}`)).body;
    assert.equal(out.room, null);
    await page.goto(`/diary?view=day&date=${day}&by=room`);
    assert.equal(await slotIn(session2.starts_at, "Room 2").count(), 1, "Room 2 is free again");
  });
});
