// Starts a Follicle server for one test run: a fresh data directory with a second clinic
// ("Other Clinic") and the demo clinic, on a free loopback port. Browse it as
// http://localhost:PORT — the session cookie is `Secure`, which Chromium accepts on localhost.
import { spawn, execFileSync } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";

export const REPO = path.resolve(import.meta.dirname, "..", "..");

/** The release binary (scripts/e2e builds it). FOLLICLE_BIN overrides (CI's scripts/test gives
 * the debug one). */
export function follicleBinary() {
  if (process.env.FOLLICLE_BIN) return process.env.FOLLICLE_BIN;
  const target =
    process.env.CARGO_TARGET_DIR ||
    path.join(process.env.XDG_CACHE_HOME || path.join(os.homedir(), ".cache"), "follicle", "target");
  return path.join(target, "release", "follicle");
}

function freePort() {
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

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * Starts the server (`extraEnv`: more FOLLICLE__… settings, such as the mail relay). Returns { url, port, dataDir, stop(), log() }. `stop` kills it and
 * removes the data directory (kept when FOLLICLE_E2E_KEEP=1).
 */
export async function startServer(extraEnv = {}) {
  const bin = follicleBinary();
  if (!fs.existsSync(bin)) {
    throw new Error(`no follicle binary at ${bin}: build it with cargo build --release -p follicle (scripts/e2e does)`);
  }
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "follicle-e2e-"));
  const env = { ...process.env, FOLLICLE__LOG__LEVEL: process.env.FOLLICLE__LOG__LEVEL || "warn", ...extraEnv };
  // The second clinic, for the isolation checks.
  execFileSync(
    bin,
    ["clinic", "create", "--data-dir", dataDir, "--name", "Other Clinic", "--owner-email", "owner@other.test", "--owner-name", "Olu Other"],
    { env: { ...env, FOLLICLE_OWNER_PASSWORD: "other-clinic-pass" }, stdio: ["ignore", "pipe", "pipe"] },
  );
  // FOLLICLE_E2E_PORT pins the port (several runs on one machine each keep to their own).
  const port = process.env.FOLLICLE_E2E_PORT ? Number(process.env.FOLLICLE_E2E_PORT) : await freePort();
  let output = "";
  const child = spawn(bin, ["serve", "--demo", "--data-dir", dataDir, "--listen", `127.0.0.1:${port}`], {
    env,
    stdio: ["ignore", "pipe", "pipe"],
  });
  child.stdout.on("data", (d) => (output += d));
  child.stderr.on("data", (d) => (output += d));
  let exited = null;
  child.on("exit", (code, signal) => (exited = { code, signal }));
  // Never leave the server behind, even when the runner dies on a failure.
  const killOnExit = () => { try { child.kill("SIGKILL"); } catch { /* gone */ } };
  const killOnSignal = (signal) => {
    killOnExit();
    if (process.env.FOLLICLE_E2E_KEEP !== "1") fs.rmSync(dataDir, { recursive: true, force: true });
    process.exit(signal === "SIGINT" ? 130 : 143);
  };
  process.on("exit", killOnExit);
  process.once("SIGINT", killOnSignal);
  process.once("SIGTERM", killOnSignal);

  const stop = async () => {
    process.off("exit", killOnExit);
    process.off("SIGINT", killOnSignal);
    process.off("SIGTERM", killOnSignal);
    if (exited === null) {
      child.kill("SIGTERM");
      for (let i = 0; i < 50 && exited === null; i++) await sleep(100);
      if (exited === null) child.kill("SIGKILL");
    }
    if (process.env.FOLLICLE_E2E_KEEP !== "1") fs.rmSync(dataDir, { recursive: true, force: true });
  };

  const url = `http://localhost:${port}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (exited !== null) {
      await stop();
      throw new Error(`follicle serve exited (${JSON.stringify(exited)}) before answering:\n${output}`);
    }
    try {
      const res = await fetch(`http://127.0.0.1:${port}/api/v1/health`);
      if (res.status === 200) break;
    } catch { /* not listening yet */ }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`follicle serve did not answer /api/v1/health within 60 s:\n${output}`);
    }
    await sleep(150);
  }
  return { url, port, dataDir, stop, log: () => output };
}

/** Which build of the server the tests drive, for the latency reports: "release", "debug" or
 * the binary's path when it is in neither profile's folder. */
export function serverBuild() {
  const bin = follicleBinary();
  const profile = path.basename(path.dirname(bin));
  return profile === "release" || profile === "debug" ? profile : bin;
}
