// A real SMTP server for end-to-end tests: Debian's python3-aiosmtpd writing a Maildir, and
// the mails read back from it.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** A free loopback port. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

/**
 * Starts aiosmtpd on a free port with a fresh Maildir. Returns { port, mails(), mailTo(to, re),
 * stop() }: `mails` reads every mail received, `mailTo` waits (up to 30 s) for one to `to`
 * whose text matches `re`.
 */
export async function startMailbox() {
  // aiosmtpd's Mailbox makes the Maildir (new/, cur/, tmp/) only where nothing exists yet.
  const root = fs.mkdtempSync(path.join(os.tmpdir(), "follicle-e2e-mail-"));
  const maildir = path.join(root, "maildir");
  const port = await freePort();
  const child = spawn("/usr/bin/python3", ["-m", "aiosmtpd", "-n", "-l", `127.0.0.1:${port}`, "-c", "aiosmtpd.handlers.Mailbox", maildir], {
    stdio: "ignore",
  });
  for (let i = 0; i < 100; i++) {
    const up = await new Promise((resolve) => {
      const s = net.connect(port, "127.0.0.1", () => { s.end(); resolve(true); });
      s.on("error", () => resolve(false));
    });
    if (up) break;
    await sleep(100);
  }
  const mails = () => {
    const dir = path.join(maildir, "new");
    if (!fs.existsSync(dir)) return [];
    return fs.readdirSync(dir).map((f) => fs.readFileSync(path.join(dir, f), "latin1"));
  };
  const mailTo = async (to, re) => {
    for (let i = 0; i < 300; i++) {
      const found = mails().filter((m) => m.includes(to) && re.test(m));
      if (found.length) return found[found.length - 1];
      await sleep(100);
    }
    throw new Error(`no mail to ${to} matching ${re}; mails: ${mails().length}`);
  };
  const stop = () => {
    child.kill("SIGKILL");
    fs.rmSync(root, { recursive: true, force: true });
  };
  return { port, mails, mailTo, stop };
}

/** A quoted-printable body made plain enough to find a link in. */
export const unfold = (mail) => mail.replace(/=\r?\n/g, "").replace(/=3D/g, "=");

/** The PDF attached to a mail. */
export function attachedPdf(mail) {
  const at = mail.indexOf("Content-Type: application/pdf");
  assert.ok(at >= 0, "a PDF attached");
  const part = mail.slice(at);
  const body = part.slice(part.search(/\r?\n\r?\n/)).trim();
  const encoded = body.split(/\r?\n/).filter((l) => !l.startsWith("--")).join("");
  return Buffer.from(encoded.split("--")[0], "base64");
}

/** The server's mail settings for this mailbox. */
export const mailEnv = (box) => ({
  FOLLICLE__MAIL__SMTP_HOST: "127.0.0.1",
  FOLLICLE__MAIL__SMTP_PORT: String(box.port),
  FOLLICLE__MAIL__TLS: "none",
  FOLLICLE__JOBS__POLL_SECONDS: "1",
});
