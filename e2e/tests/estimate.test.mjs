// End-to-end test of issue 15's whole door in real Chromium, with a real SMTP server (Debian's
// python3-aiosmtpd, writing a Maildir): a person uses the clinic's public estimator with their
// own photo, sees their estimate and the healed look, and sends a booking request; the clinic
// makes them a client with one click in its inbox; the sign-in link reaches them by mail; in
// their pages they fill the pre-visit intake and sign the photo consent with a drawn signature;
// the signed PDF arrives and reads back with pdftotext. Screenshots of the estimator for the docs.
//
// Its own server, SMTP server and browser; screenshots under $FOLLICLE_E2E_OUT (default e2e/out).
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";

import { DESKTOP, launch } from "../lib/browser.mjs";
import { sign } from "../lib/consent.mjs";
import { attachedPdf, mailEnv, sleep, startMailbox, unfold } from "../lib/mail.mjs";
import { REPO, startServer } from "../lib/server.mjs";

const PASSWORD = "follicle-demo";
const OWNER = "owner@demo.follicle.test";
const OUT = process.env.FOLLICLE_E2E_OUT || path.join(REPO, "e2e", "out");
const SHOTS = path.join(OUT, "screenshots");
const PHOTO = path.join(REPO, "assets", "photos", "E_W_Dahlgren.jpg");
// A person takes longer than the clinic's `estimator.min_fill_seconds` (4) to fill a form.
const A_PERSON_READS_MS = 4500;
const PERSON = { name: "Dara Quinn", email: "dara.quinn@example.org" };

let server;
let box;
let browser;
let staff;
let estimator;

async function shot(p, name) {
  // The drawings load lazily (a page embedded in a clinic's site fetches what is seen): load
  // them all before a full-page picture, or the ones below the fold show as empty discs.
  await p.evaluate(() =>
    Promise.all(
      [...document.images].map((img) => {
        img.loading = "eager";
        return img.complete ? null : new Promise((done) => { img.onload = img.onerror = done; });
      }),
    ),
  );
  fs.mkdirSync(SHOTS, { recursive: true });
  await p.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: true, animations: "disabled", caret: "hide" });
}

before(async () => {
  box = await startMailbox();
  server = await startServer(mailEnv(box));
  browser = await launch();
  const context = await browser.newContext({ viewport: DESKTOP, baseURL: server.url });
  staff = await context.newPage();
  staff.setDefaultTimeout(30_000);
  await staff.goto("/login");
  await staff.fill("#email", OWNER);
  await staff.fill("#password", PASSWORD);
  await Promise.all([staff.waitForURL(`${server.url}/`), staff.getByRole("button", { name: "Sign in" }).click()]);
  // The estimator's address, as the inbox gives it (its path: the public URL is the server's).
  await staff.goto("/requests");
  estimator = new URL(await staff.getAttribute("#estimator-address", "href")).pathname;
  assert.match(estimator, /^\/estimate\/[0-9a-f-]{36}$/);
});

after(async () => {
  await browser?.close().catch(() => {});
  await server?.stop();
  box?.stop();
});

describe("estimator to signed consent", () => {
  test("a person's estimate becomes a client who signs in, fills the intake and signs", async () => {
    // The person, on a phone-sized browser of their own, with no account.
    const context = await browser.newContext({ viewport: { width: 430, height: 900 }, baseURL: server.url });
    const person = await context.newPage();
    person.setDefaultTimeout(60_000);
    await person.goto(estimator);
    assert.match(await person.textContent("h1"), /What would scalp micropigmentation mean for you/);
    // The drawings of hair loss load (the server draws them).
    const drawing = person.locator(".choice img").nth(4);
    await drawing.scrollIntoViewIfNeeded();
    await person.waitForFunction((img) => img.complete && img.naturalWidth === 200, await drawing.elementHandle());
    await person.locator(".choice", { hasText: "Front and crown nearly meet" }).click();
    await person.fill("#age", "46");
    await person.locator("label", { hasText: "Fair, burns easily" }).click();
    await person.selectOption("select[name=hair]", "dark_brown");
    await person.locator("label", { hasText: "A shaved look" }).click();
    await person.setInputFiles("#photo", PHOTO);
    await shot(person, "estimator");
    await sleep(A_PERSON_READS_MS);
    await person.getByRole("button", { name: "See my estimate" }).click();
    await person.waitForSelector("#estimate");
    const facts = await person.textContent("#estimate");
    assert.match(facts, /Sessions/);
    assert.match(facts, /Price[^\d]*[\d,]+ to [^\d]*[\d,]+/);
    assert.match(facts, /hours in all/);
    for (const id of ["#before-top", "#after-top", "#after-front", "#photo-after"]) {
      const ok = await person.$eval(id, (img) => img.complete && img.naturalWidth > 100);
      assert.ok(ok, `${id} drawn`);
    }
    assert.doesNotMatch(await person.textContent("main"), /FullCoverage|full_coverage|norwood-5/);
    await shot(person, "estimator-result");

    // The booking request.
    await person.fill("#name", PERSON.name);
    await person.fill("#email", PERSON.email);
    await person.fill("#message", "Evenings suit me best.");
    await person.check("#send-photo");
    await person.check("#agree");
    await sleep(A_PERSON_READS_MS);
    await person.getByRole("button", { name: "Send my request" }).click();
    await person.waitForSelector("#sent");
    assert.match(await person.textContent("#sent"), /Your request has reached/);

    // The clinic's inbox: one click makes a client and sends the link.
    await staff.goto("/requests");
    const card = staff.locator("article.request", { hasText: PERSON.name });
    assert.match(await card.textContent(), /Evenings suit me best/);
    assert.match(await card.textContent(), /Front and crown nearly meet/);
    await shot(staff, "requests");
    await Promise.all([
      staff.waitForURL(/\/clients\/[0-9a-f-]{36}$/),
      card.getByRole("button", { name: /Make a client/ }).click(),
    ]);
    assert.match(await staff.textContent("h1"), new RegExp(PERSON.name));

    // The link by mail; the client's pages.
    const mail = unfold(await box.mailTo(PERSON.email, /Your link to sign in/));
    const link = mail.match(/\/portal\/enter\?t=[0-9a-f]+/)[0];
    await person.goto(link);
    await Promise.all([person.waitForURL(`${server.url}/portal`), person.getByRole("button", { name: "Sign in" }).click()]);
    assert.match(await person.textContent("h1"), new RegExp(`Hello, ${PERSON.name}`));

    // The intake.
    await person.goto("/portal/intake");
    await person.fill("#allergies", "None known");
    await person.fill("#notes", "I take no medicines.");
    await Promise.all([person.waitForURL(/\/portal\?done=/), person.getByRole("button", { name: "Send to the clinic" }).click()]);

    // The photo consent, signed with a drawn signature; the signed PDF arrives.
    await person.goto("/portal/consents/photos");
    await Promise.all([person.waitForURL(`${server.url}/portal?done=signed`), sign(person, PERSON.name)]);
    const signed = await box.mailTo(PERSON.email, /Your signed copy/);
    const pdf = attachedPdf(signed);
    assert.equal(pdf.subarray(0, 5).toString(), "%PDF-");
    fs.mkdirSync(OUT, { recursive: true });
    const file = path.join(OUT, "consent-from-estimator.pdf");
    fs.writeFileSync(file, pdf);
    const words = execFileSync("pdftotext", [file, "-"]).toString();
    assert.match(words, /Consent to photographs/);
    assert.ok(words.includes(PERSON.name), words);

    // The link again: used.
    const other = await browser.newContext({ baseURL: server.url });
    const again = await other.newPage();
    const res = await again.goto(link);
    assert.equal(res.status(), 410);
    assert.match(await again.textContent("#error"), /used already/);
    await other.close();
    await context.close();
  });
});
