// End-to-end test of two-factor sign-in in real Chromium: the practitioner sets it up on the
// account page (a QR code and the key; the test plays the authenticator app, RFC 6238 with
// Node's HMAC-SHA-1), keeps the recovery codes, signs out, and signs in again with the password
// and then a code; a wrong code is refused beside the field.
//
// Its own server and browser (fresh data directory, the demo clinic); writes a screenshot of the
// account page under $FOLLICLE_E2E_OUT (default e2e/out, ignored by git).
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";

import { DESKTOP, launch } from "../lib/browser.mjs";
import { REPO, startServer } from "../lib/server.mjs";

const PASSWORD = "follicle-demo";
const PRACTITIONER = "practitioner@demo.follicle.test";
const OUT = process.env.FOLLICLE_E2E_OUT || path.join(REPO, "e2e", "out");
const SHOTS = path.join(OUT, "screenshots");

/** RFC 4648 base32 without padding, decoded. */
function base32(text) {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  let bits = 0;
  let value = 0;
  const out = [];
  for (const c of text.replace(/[\s=-]/g, "").toUpperCase()) {
    value = (value << 5) | alphabet.indexOf(c);
    bits += 5;
    if (bits >= 8) {
      bits -= 8;
      out.push((value >>> bits) & 0xff);
    }
  }
  return Buffer.from(out);
}

/** The 6-digit code of a base32 secret at unix second `t` (RFC 6238, SHA-1, 30 s). */
function totp(secret, t) {
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(t / 30)));
  const mac = crypto.createHmac("sha1", base32(secret)).update(counter).digest();
  const offset = mac[mac.length - 1] & 0x0f;
  const code = (mac.readUInt32BE(offset) & 0x7fffffff) % 1_000_000;
  return String(code).padStart(6, "0");
}

let server;
let browser;
let page;

before(async () => {
  server = await startServer();
  browser = await launch();
  const context = await browser.newContext({ viewport: DESKTOP, baseURL: server.url });
  page = await context.newPage();
  page.setDefaultTimeout(20_000);
  page.setDefaultNavigationTimeout(30_000);
});

after(async () => {
  await browser?.close().catch(() => {});
  await server?.stop();
});

async function signIn(password) {
  await page.goto("/login");
  await page.fill("#email", PRACTITIONER);
  await page.fill("#password", password);
  await page.getByRole("button", { name: "Sign in" }).click();
}

describe("two-factor sign-in", () => {
  test("the RFC 6238 helper gives the RFC's own test vector", () => {
    const secret = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"; // "12345678901234567890"
    assert.equal(totp(secret, 59), "287082");
    assert.equal(totp(secret, 1111111109), "081804");
  });

  test("set up on the account page with the QR code, then sign in with the password and a code", async () => {
    await signIn(PASSWORD);
    await page.waitForURL(`${server.url}/`);
    await page.goto("/account");
    await page.getByRole("button", { name: "Set up two-factor sign-in" }).click();
    await page.waitForSelector("#qr svg");
    const secret = (await page.textContent("#totp-secret")).trim();
    assert.match(secret, /^[A-Z2-7]{32}$/);

    // A wrong code is refused beside the field, the QR code still shown.
    await page.fill("#code", "000000");
    await page.getByRole("button", { name: "Turn on two-factor sign-in" }).click();
    await page.waitForSelector("#code-error");
    assert.match(await page.textContent("#code-error"), /not the code the app shows/);
    assert.equal(await page.getAttribute("#code", "aria-invalid"), "true");
    await page.waitForSelector("#qr svg");

    await page.fill("#code", totp(secret, Date.now() / 1000));
    await page.getByRole("button", { name: "Turn on two-factor sign-in" }).click();
    await page.waitForSelector("#recovery-codes");
    const codes = await page.locator("#recovery-codes code").allTextContents();
    assert.equal(codes.length, 10);
    assert.ok(codes.every((c) => /^[A-Z2-7]{4}(-[A-Z2-7]{4}){3}$/.test(c)), codes.join(" "));
    fs.mkdirSync(SHOTS, { recursive: true });
    await page.screenshot({ path: path.join(SHOTS, "account-two-factor.png"), fullPage: true });

    // Sign out, then in: the password leads to the code page.
    await page.locator("form.who button").click();
    await page.waitForURL(`${server.url}/login`);
    await signIn(PASSWORD);
    await page.waitForSelector("form[action='/login/code'] #code");
    await page.fill("#code", "123456");
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.waitForSelector("#code-error");
    // The next half-minute's code (the current one was spent turning it on).
    await page.fill("#code", totp(secret, Date.now() / 1000 + 30));
    await Promise.all([page.waitForURL(`${server.url}/`), page.getByRole("button", { name: "Sign in" }).click()]);
    await page.goto("/account");
    assert.equal((await page.textContent("#codes-left")).trim(), "10");
  });
});
