// End-to-end test of the client's own door (issue 15) in real Chromium, with a real SMTP server
// (Debian's python3-aiosmtpd, writing a Maildir): the clinic sends a client a sign-in link; the
// client opens it from the mail, sees their plan and quote, signs the photo consent with a
// signature drawn on the pad, and the signed PDF arrives by mail (read back with pdftotext and
// rasterised with pdftoppm for the docs); the desk takes the deposit and the receipt arrives by
// mail and is in the client's pages, the same bytes; the link used again, a made-up link and a
// link that has run out are refused with a page; a second client's portal cannot open the first
// client's documents.
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

let server;
let box;
let browser;
let staff;
const shared = {};

async function shot(p, name) {
  fs.mkdirSync(SHOTS, { recursive: true });
  await p.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: true, animations: "disabled", caret: "hide" });
}

/** The path of the sign-in link in the latest sign-in mail to `to`. */
async function signInLink(to) {
  const mail = unfold(await box.mailTo(to, /Your link to sign in/));
  const m = mail.match(/\/portal\/enter\?t=[0-9a-f]+/);
  assert.ok(m, "a sign-in link in the mail");
  return m[0];
}

/** The clinic sends `client` a sign-in link from their page in the studio. */
async function sendLink(client) {
  await staff.goto(`/clients/${client.id}/consents`);
  await Promise.all([staff.waitForURL(/done=link/), staff.getByRole("button", { name: "Send a sign-in link" }).click()]);
  assert.match(await staff.textContent("#notice"), /sign-in link is on its way/);
}

/** A client signs in on a browser of their own; answers their page. */
async function clientSignsIn(client) {
  const link = await signInLink(client.email);
  const context = await browser.newContext({ viewport: { width: 430, height: 900 }, baseURL: server.url });
  const page = await context.newPage();
  page.setDefaultTimeout(20_000);
  await page.goto(link);
  assert.match(await page.textContent("h1"), new RegExp(`Welcome, ${client.name}`));
  await Promise.all([page.waitForURL(`${server.url}/portal`), page.getByRole("button", { name: "Sign in" }).click()]);
  return { page, link };
}

before(async () => {
  box = await startMailbox();
  server = await startServer(mailEnv(box));
  browser = await launch();
  const context = await browser.newContext({ viewport: DESKTOP, baseURL: server.url });
  staff = await context.newPage();
  staff.setDefaultTimeout(20_000);
  await staff.goto("/login");
  await staff.fill("#email", OWNER);
  await staff.fill("#password", PASSWORD);
  await Promise.all([staff.waitForURL(`${server.url}/`), staff.getByRole("button", { name: "Sign in" }).click()]);
  // Two demo clients with a design and an email address.
  const clients = await (await staff.request.get(`${server.url}/api/v1/clients?limit=200`)).json();
  shared.clients = [];
  shared.others = [];
  for (const c of clients) {
    if (!c.email) continue;
    const designs = await (await staff.request.get(`${server.url}/api/v1/clients/${c.id}/designs`)).json();
    if (Array.isArray(designs) && designs.length) shared.clients.push(c);
    else shared.others.push(c);
  }
  assert.ok(shared.clients.length >= 2, "two demo clients with designs");
});

after(async () => {
  await browser?.close().catch(() => {});
  await server?.stop();
  box?.stop();
});

describe("the client's own door", () => {
  test("a sign-in link by mail opens the client's pages once", async () => {
    const [client] = shared.clients;
    await sendLink(client);
    const { page, link } = await clientSignsIn(client);
    assert.match(await page.textContent("h1"), new RegExp(`Hello, ${client.name}`));
    assert.match(await page.textContent("main"), /Your plan and quote/);
    assert.match(await page.textContent("#quote"), /Q-\d+/);
    assert.doesNotMatch(await page.textContent("main"), /FullCoverage|mid_scalp|front_desk/);
    await shot(page, "portal");
    // The same link again, in another browser: refused, with a page that says why.
    const other = await browser.newContext({ baseURL: server.url });
    const again = await other.newPage();
    const res = await again.goto(link);
    assert.equal(res.status(), 410);
    assert.match(await again.textContent("#error"), /used already/);
    await shot(again, "portal-link-used");
    const made = await again.goto("/portal/enter?t=0123456789abcdef");
    assert.equal(made.status(), 410);
    assert.match(await again.textContent("#error"), /not valid/);
    // A link that has run out: another client (without a design, not used by the other tests)
    // is sent one, and time passes — its expiry is moved into the past in the clinic's
    // database, as the clock would — before it is opened.
    const [late] = shared.others;
    assert.ok(late, "a demo client with an email address and no design");
    await sendLink(late);
    const fresh = await signInLink(late.email);
    execFileSync("/usr/bin/python3", [
      "-c",
      "import sqlite3, sys\n" +
        "db = sqlite3.connect(sys.argv[1], timeout=10)\n" +
        "n = db.execute(\"UPDATE portal_links SET expires_at = '2000' || substr(expires_at, 5) WHERE used_at IS NULL\").rowcount\n" +
        "db.commit()\n" +
        "assert n >= 1, n\n",
      path.join(server.dataDir, "follicle.db"),
    ]);
    const ran = await again.goto(fresh);
    assert.equal(ran.status(), 410);
    assert.match(await again.textContent("#error"), /run out/);
    shared.page = page;
    await other.close();
  });

  test("the client signs the photo consent with a drawn signature; the signed PDF arrives", async () => {
    const [client] = shared.clients;
    const page = shared.page;
    assert.ok(page, "the first test signed the client in");
    await page.goto("/portal/consents/photos");
    assert.match(await page.textContent("#consent-text"), /photographs of my scalp/);
    await page.fill("#name", client.name);
    await shot(page, "portal-consent");
    await Promise.all([page.waitForURL(`${server.url}/portal?done=signed`), sign(page, client.name)]);
    assert.match(await page.textContent("#notice"), /Signed/);
    const mail = await box.mailTo(client.email, /Your signed copy/);
    const pdf = attachedPdf(mail);
    assert.equal(pdf.subarray(0, 5).toString(), "%PDF-");
    fs.mkdirSync(SHOTS, { recursive: true });
    const file = path.join(OUT, "consent-photos.pdf");
    fs.writeFileSync(file, pdf);
    const words = execFileSync("pdftotext", [file, "-"]).toString();
    assert.match(words, /Consent to photographs/);
    assert.ok(words.includes(client.name), words);
    assert.match(words, /Fingerprint/);
    execFileSync("pdftoppm", ["-png", "-r", "60", "-f", "1", "-l", "1", "-singlefile", file, path.join(SHOTS, "pdf-consent")]);
    // The portal's own copy is the same document.
    const row = page.locator("#consents tr", { hasText: "Photographs" });
    const href = await row.getByRole("link", { name: "Signed copy (PDF)" }).getAttribute("href");
    shared.pdf = href;
    const own = await page.request.get(`${server.url}${href}`);
    assert.equal(own.status(), 200);
    assert.deepEqual(Buffer.from(await own.body()), pdf);
    // The plan and quote as a PDF, in the client's words.
    const plan = await page.request.get(`${server.url}/portal/plan.pdf`);
    assert.equal(plan.status(), 200);
    const planFile = path.join(OUT, "plan-and-quote.pdf");
    fs.writeFileSync(planFile, Buffer.from(await plan.body()));
    const planWords = execFileSync("pdftotext", [planFile, "-"]).toString();
    assert.match(planWords, /Your plan and quote/);
    assert.match(planWords, /Aftercare, day by day/);
    assert.doesNotMatch(planWords, /FullCoverage|mid_scalp|% water/);
    execFileSync("pdftoppm", ["-png", "-r", "60", "-f", "1", "-l", "1", "-singlefile", planFile, path.join(SHOTS, "pdf-plan-and-quote")]);
  });

  test("the desk takes the deposit; the receipt arrives and is in the client's pages", async () => {
    const [client] = shared.clients;
    const page = shared.page;
    assert.ok(page, "the first test signed the client in");
    await staff.goto(`/clients/${client.id}/payments`);
    assert.match(await staff.textContent("#quote-summary"), /Q-\d+/);
    // A mistake first: shown beside the amount, nothing recorded.
    await staff.fill("#amount", "three hundred");
    await staff.getByRole("button", { name: "Record the payment" }).click();
    assert.match(await staff.textContent("#amount-error"), /expected an amount such as 300/);
    assert.match(await staff.textContent("main"), /No payment recorded yet/);
    // The deposit the form suggests, by card, the receipt by email.
    await staff.selectOption("#kind", "deposit");
    const deposit = await (await staff.request.get(`${server.url}/clients/${client.id}/payments`)).text();
    const amount = deposit.match(/id="amount"[^>]*value="([^"]+)"/)[1];
    await staff.fill("#amount", amount);
    await staff.check("#email_receipt");
    await Promise.all([staff.waitForURL(/done=taken-mailed/), staff.getByRole("button", { name: "Record the payment" }).click()]);
    assert.match(await staff.textContent("#payments"), /R-00001/);
    await shot(staff, "payments");
    const mail = await box.mailTo(client.email, /Your receipt R-00001/);
    const pdf = attachedPdf(mail);
    const file = path.join(OUT, "receipt.pdf");
    fs.mkdirSync(OUT, { recursive: true });
    fs.writeFileSync(file, pdf);
    const words = execFileSync("pdftotext", [file, "-"]).toString();
    assert.match(words, /Receipt/);
    assert.match(words, /R-00001/);
    assert.ok(words.includes(client.name), words);
    assert.match(words, /Deposit/);
    assert.match(words, /Still to pay/);
    execFileSync("pdftoppm", ["-png", "-r", "60", "-f", "1", "-l", "1", "-singlefile", file, path.join(SHOTS, "pdf-receipt")]);
    // The client's pages list it; its page says the same, its PDF is the same bytes.
    await page.goto("/portal");
    await page.locator("#payments").getByRole("link", { name: "R-00001" }).click();
    assert.match(await page.textContent("#receipt"), /R-00001/);
    assert.match(await page.textContent("#receipt"), /Still to pay/);
    const href = await page.getAttribute("#receipt-pdf", "href");
    const own = await page.request.get(`${server.url}${href}`);
    assert.equal(own.status(), 200);
    assert.deepEqual(Buffer.from(await own.body()), pdf);
    shared.receipt = href;
    // The ink passport of a client already treated (the demo logged their first session), for
    // the docs: the batch and lot of what went into their skin.
    const all = await (await staff.request.get(`${server.url}/api/v1/clients?limit=200`)).json();
    let treated;
    for (const c of all) {
      if (!c.email) continue;
      const sessions = await (await staff.request.get(`${server.url}/api/v1/clients/${c.id}/sessions`)).json();
      if (Array.isArray(sessions) && sessions.length) { treated = c; break; }
    }
    assert.ok(treated, "a demo client with a session logged");
    await sendLink(treated);
    const { page: theirs } = await clientSignsIn(treated);
    const passport = await theirs.request.get(`${server.url}/portal/passport.pdf`);
    assert.equal(passport.status(), 200);
    const passportFile = path.join(OUT, "ink-passport.pdf");
    fs.writeFileSync(passportFile, Buffer.from(await passport.body()));
    const passportWords = execFileSync("pdftotext", [passportFile, "-"]).toString();
    assert.match(passportWords, /Your ink passport/);
    assert.match(passportWords, /use by/);
    assert.doesNotMatch(passportWords, /No session is recorded yet/);
    execFileSync("pdftoppm", ["-png", "-r", "60", "-f", "1", "-l", "1", "-singlefile", passportFile, path.join(SHOTS, "pdf-ink-passport")]);
    await theirs.context().close();
  });

  test("a second client's pages open none of the first client's documents", async () => {
    const second = shared.clients[1];
    assert.ok(shared.pdf, "the first client's document");
    await sendLink(second);
    const { page } = await clientSignsIn(second);
    assert.match(await page.textContent("h1"), new RegExp(`Hello, ${second.name}`));
    assert.ok(!(await page.textContent("main")).includes(shared.clients[0].name));
    const tried = await page.request.get(`${server.url}${shared.pdf}`);
    assert.equal(tried.status(), 404);
    assert.match(await tried.text(), /<html/);
    const receipt = await page.request.get(`${server.url}${shared.receipt}`);
    assert.equal(receipt.status(), 404);
  });
});
