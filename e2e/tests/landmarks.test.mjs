// End-to-end: landmarks on a real front photo (issue 12). A practitioner uploads a shipped real
// portrait (assets/photos, see its ORIGIN.md) as a front photo, opens its landmarks, clicks
// "Find landmarks" (the face model runs in the server), sees the points over the photo, drags
// one, saves, reloads and finds it where it was dropped. A photo without a face says so and
// the practitioner places a point by clicking.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import zlib from "node:zlib";

import { DESKTOP, launch } from "../lib/browser.mjs";
import { REPO, startServer } from "../lib/server.mjs";

const PASSWORD = "follicle-demo";
const PRACTITIONER = "practitioner@demo.follicle.test";
const PORTRAIT = path.join(REPO, "assets", "photos", "E_W_Dahlgren.jpg");
const UUID = "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}";

let server;
let browser;
let page;
let clientUrl;

/** A plain grey PNG of the given size (no face in it). */
function greyPng(width, height) {
  const crcTable = Array.from({ length: 256 }, (_, n) => {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    return c >>> 0;
  });
  const crc = (buf) => {
    let c = 0xffffffff;
    for (const b of buf) c = crcTable[(c ^ b) & 0xff] ^ (c >>> 8);
    return (c ^ 0xffffffff) >>> 0;
  };
  const chunk = (type, data) => {
    const body = Buffer.concat([Buffer.from(type, "latin1"), data]);
    const out = Buffer.alloc(body.length + 8);
    out.writeUInt32BE(data.length, 0);
    body.copy(out, 4);
    out.writeUInt32BE(crc(body), body.length + 4);
    return out;
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr.set([8, 2, 0, 0, 0], 8); // 8-bit RGB
  const row = Buffer.concat([Buffer.from([0]), Buffer.alloc(width * 3, 150)]);
  const raw = Buffer.concat(Array.from({ length: height }, () => row));
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk("IHDR", ihdr),
    chunk("IDAT", zlib.deflateSync(raw)),
    chunk("IEND", Buffer.alloc(0)),
  ]);
}

async function upload(file, angle) {
  await page.goto(clientUrl);
  await page.selectOption("select#angle", angle);
  await page.setInputFiles("input#photo", file);
  await Promise.all([page.waitForNavigation(), page.getByRole("button", { name: "Upload photo" }).click()]);
  assert.equal(await page.locator("#photo-error").count(), 0, "the upload is accepted");
  // A photo kept with a notice (a plain grey wall is "blurred") shows the capture outcome first.
  if (!page.url().endsWith("#photos")) await page.goto(clientUrl);
}

/** Opens the landmarks page of the newest photo's link and waits for the photo to be drawn. */
async function openNewestLandmarks() {
  const links = page.locator("a.landmarks-link");
  const href = await links.last().getAttribute("href");
  assert.match(href, new RegExp(`^/photos/${UUID}/landmarks$`));
  await page.goto(href);
  await page.waitForFunction(() => window.follicleLandmarks?.ready === true);
  return href;
}

async function markerCentre(name) {
  const box = await page.locator(`[data-landmark="${name}"]`).boundingBox();
  assert.ok(box, `${name} is shown`);
  return { x: box.x + box.width / 2, y: box.y + box.height / 2 };
}

before(async () => {
  server = await startServer();
  browser = await launch();
  const context = await browser.newContext({ viewport: DESKTOP, baseURL: server.url });
  page = await context.newPage();
  page.setDefaultTimeout(30_000);
  await page.goto(`${server.url}/login`);
  await page.fill("#email", PRACTITIONER);
  await page.fill("#password", PASSWORD);
  await Promise.all([page.waitForURL(`${server.url}/`), page.getByRole("button", { name: "Sign in" }).click()]);
  // A client of our own for the photos.
  await page.goto(`${server.url}/clients/new`);
  await page.fill("#name", "Erik Landmark");
  await Promise.all([page.waitForURL(new RegExp(`/clients/${UUID}$`)), page.getByRole("button", { name: "Save client" }).click()]);
  clientUrl = page.url();
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

describe("landmarks on a photo", () => {
  test("found on a real front photo, dragged, saved and shown where dropped after a reload", async () => {
    await upload(PORTRAIT, "front");
    const href = await openNewestLandmarks();
    await page.getByRole("button", { name: "Find landmarks" }).click();
    await page.locator("#status", { hasText: /Found \d+ landmarks/ }).waitFor();
    for (const name of ["glabella", "lateral_canthus_right", "lateral_canthus_left"]) {
      await page.locator(`[data-landmark="${name}"]`).waitFor();
    }
    const found = await page.evaluate(() => Object.fromEntries(window.follicleLandmarks.points));
    // The right eye's outer corner, hand-marked at (343.75, 198.25) in assets/photos/landmarks.json
    // (the median of four marks).
    const canthus = found.lateral_canthus_right;
    assert.ok(Math.hypot(canthus.x - 343.75, canthus.y - 198.25) < 10, `canthus found at ${JSON.stringify(canthus)}`);
    assert.ok(await page.locator("#outline polygon").count(), "the face outline is drawn");

    // Drag the glabella 40 screen pixels right and 25 down.
    const from = await markerCentre("glabella");
    const boxBefore = await page.locator("#photo").boundingBox();
    await page.mouse.move(from.x, from.y);
    await page.mouse.down();
    await page.mouse.move(from.x + 20, from.y + 12, { steps: 4 });
    await page.mouse.move(from.x + 40, from.y + 25, { steps: 4 });
    await page.mouse.up();
    const dropped = await page.evaluate(() => window.follicleLandmarks.points.get("glabella"));
    const before = found.glabella;
    assert.ok(dropped.x > before.x + 5 && dropped.y > before.y + 5, `dragged from ${JSON.stringify(before)} to ${JSON.stringify(dropped)}`);
    assert.equal(await page.evaluate(() => window.follicleLandmarks.source), "adjusted");

    await page.getByRole("button", { name: "Save" }).click();
    await page.locator("#status", { hasText: /Saved \d+ landmarks/ }).waitFor();

    await page.goto(href);
    await page.waitForFunction(() => window.follicleLandmarks?.ready === true);
    const kept = await page.evaluate(() => window.follicleLandmarks.points.get("glabella"));
    assert.ok(Math.abs(kept.x - dropped.x) < 0.5 && Math.abs(kept.y - dropped.y) < 0.5, `kept ${JSON.stringify(kept)}, dropped ${JSON.stringify(dropped)}`);
    // And it is drawn there: the marker's centre is where the mouse let go.
    // (Relative to the photo: the page above it may lay out differently after a reload.)
    const shown = await markerCentre("glabella");
    const boxAfter = await page.locator("#photo").boundingBox();
    const want = { x: from.x + 40 - boxBefore.x + boxAfter.x, y: from.y + 25 - boxBefore.y + boxAfter.y };
    assert.ok(Math.hypot(shown.x - want.x, shown.y - want.y) < 3, `marker at ${JSON.stringify(shown)}, dropped at ${JSON.stringify(want)}`);
    const out = process.env.FOLLICLE_E2E_OUT || path.join(REPO, "e2e", "out");
    fs.mkdirSync(path.join(out, "screenshots"), { recursive: true });
    await page.screenshot({ path: path.join(out, "screenshots", "landmarks.png"), fullPage: true });
  });

  test("a photo without a face says so, and a point is placed by clicking", async () => {
    // A plain grey PNG: no face to find.
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "follicle-landmarks-"));
    const wall = path.join(dir, "wall.png");
    fs.writeFileSync(wall, greyPng(640, 480));
    await upload(wall, "front");
    await openNewestLandmarks();
    await page.getByRole("button", { name: "Find landmarks" }).click();
    await page.locator("#status", { hasText: /No landmarks found: .*no face found.*by hand/ }).waitFor();
    await page.selectOption("#place", "glabella");
    const box = await page.locator("#photo").boundingBox();
    await page.mouse.click(box.x + box.width / 2, box.y + box.height / 3);
    await page.locator('[data-landmark="glabella"]').waitFor();
    assert.equal(await page.evaluate(() => window.follicleLandmarks.source), "manual");
    fs.rmSync(dir, { recursive: true, force: true });
  });
});
