/**
 * `wrap` and `unwrap` as a library: choose the entries, lock each stdio server (the same scan and
 * lockfile code as `mcptrust lock`), compute every rewritten config before anything is written, then
 * write lockfiles, wrap records and configs (each config after a backup, atomically).
 *
 * @module
 */
import { existsSync, mkdirSync, readFileSync, statSync } from "node:fs";
import { resolve } from "node:path";
import process from "node:process";
import { createTwoFilesPatch } from "diff";
import { McpTrustError } from "../errors.ts";
import type { ServerInterface } from "../mcp/types.ts";
import type { LockfileV3 } from "../lockfile/types.ts";
import type { ConfigDoc, ServerEntry } from "./config_file.ts";
import { applyChecked, entryKey, type EntryTexts, type TextEdit, unwrapEdits, wrapEdits } from "./edit.ts";
import { type Launch, resolveLaunch } from "./expand.ts";
import type { Inventory } from "./inventory.ts";
import type { HostContext } from "./kinds.ts";
import { lockPathFor, parseWrapped, recordPathFor, wrappedArgs } from "./wrapped.ts";
import { readRecord, removeRecord, rewriteConfig, type WrapRecord, writeRecord } from "./write.ts";

/** One entry and what `wrap` will do with it. */
export interface WrapCandidate {
  doc: ConfigDoc;
  entry: ServerEntry;
  action: "wrap" | "skip" | "already-wrapped";
  /** For skip: why. */
  reason?: string;
  /** For wrap: the lockfile to write and pin. */
  lock?: string;
  /** For wrap: how the host starts the server (for the scan). */
  launch?: Launch;
}

/** Who/what to wrap. */
export interface SelectOptions {
  /** Server names (default: all). */
  servers?: readonly string[];
  lockDir: string;
  /** The inventory is one file given with --config (lockfiles are named after it). */
  customFile?: boolean;
}

/** `host/name (scope, file)`, for messages. */
export function describeEntry(e: ServerEntry): string {
  const scope = e.scope === "local" ? `local to ${e.project}` : e.scope;
  return `${e.host}/${e.name} (${scope}, ${e.file})`;
}

/**
 * Chooses what `wrap` does with each server of the inventory.
 *
 * @throws {McpTrustError} (exit 2) if a name in `servers` matches no server
 */
export function planWrap(inv: Inventory, ctx: HostContext, opts: SelectOptions): WrapCandidate[] {
  const out: WrapCandidate[] = [];
  const wanted = opts.servers && opts.servers.length > 0 ? new Set(opts.servers) : undefined;
  const matched = new Set<string>();
  for (const doc of inv.docs) {
    for (const entry of doc.servers) {
      if (wanted && !wanted.has(entry.name)) continue;
      matched.add(entry.name);
      const c: WrapCandidate = { doc, entry, action: "skip" };
      out.push(c);
      if (entry.transport === "http" || entry.transport === "sse") {
        c.reason = `remote server (${entry.transport}${entry.url ? ` ${entry.url}` : ""}): ` +
          "wrap handles servers the host starts over stdio; pin it with `mcptrust lock --url URL`";
        continue;
      }
      if (entry.problem) {
        c.reason = entry.problem;
        continue;
      }
      if (parseWrapped(entry.command, entry.args)) {
        c.action = "already-wrapped";
        continue;
      }
      const launch = resolveLaunch(entry, ctx.env, ctx.home, ctx.project);
      if (!launch.ok) {
        c.reason = launch.reason;
        continue;
      }
      c.action = "wrap";
      c.launch = launch.launch;
      c.lock = lockPathFor(opts.lockDir, entry, ctx.project, opts.customFile === true);
    }
  }
  for (const name of wanted ?? []) {
    if (!matched.has(name)) {
      throw new McpTrustError(`no server named ${JSON.stringify(name)} in the configs looked at`, {
        hint: "run `mcptrust hosts` to see every server's name",
      });
    }
  }
  // Two entries must never share a lockfile.
  const byLock = new Map<string, WrapCandidate>();
  for (const c of out) {
    if (c.action !== "wrap") continue;
    const other = byLock.get(c.lock!);
    if (other) {
      throw new McpTrustError(
        `${describeEntry(c.entry)} and ${describeEntry(other.entry)} would share the lockfile ${c.lock}`,
        { hint: "wrap them one at a time with --server and different --lock-dir" },
      );
    }
    byLock.set(c.lock!, c);
  }
  return out;
}

/** A config file's new text, and the records of the entries wrapped in it. */
export interface DocChange {
  doc: ConfigDoc;
  text: string;
  records: WrapRecord[];
}

/**
 * The rewritten text of every config file with entries to wrap. Nothing is written.
 *
 * @throws {McpTrustError} (exit 2) if a rewrite does not check out (applyChecked)
 */
export function wrapChanges(
  cands: readonly WrapCandidate[],
  self: string,
  when: Date = new Date(),
): DocChange[] {
  const byDoc = new Map<ConfigDoc, WrapCandidate[]>();
  for (const c of cands) {
    if (c.action !== "wrap") continue;
    byDoc.set(c.doc, [...(byDoc.get(c.doc) ?? []), c]);
  }
  const out: DocChange[] = [];
  for (const [doc, list] of byDoc) {
    const edits: TextEdit[] = [];
    const expect = new Map<string, { command: string; args: string[] }>();
    const records: WrapRecord[] = [];
    for (const c of list) {
      const { edits: e, texts } = wrapEdits(doc, c.entry, self, c.lock!);
      edits.push(...e);
      const argv = [c.entry.command!, ...(c.entry.args ?? [])];
      expect.set(entryKey(c.entry), { command: self, args: wrappedArgs(c.lock!, argv) });
      records.push(record(c, argv, texts, when));
    }
    out.push({ doc, text: applyChecked(doc, edits, expect), records });
  }
  return out;
}

function record(c: WrapCandidate, argv: string[], texts: EntryTexts, when: Date): WrapRecord {
  return {
    format: "mcptrust-wrap-record/1",
    host: c.entry.host,
    file: c.entry.file,
    server: c.entry.name,
    path: c.entry.path,
    lock: c.lock!,
    argv,
    texts,
    wrappedAt: when.toISOString(),
  };
}

/** A unified diff of a config change, for --dry-run. */
export function renderDiff(path: string, before: string, after: string): string {
  return createTwoFilesPatch(path, path, before, after, "current", "after mcptrust", { context: 3 });
}

/** The lockfile for one server. */
export interface LockOutcome {
  iface: ServerInterface;
  lockfile: LockfileV3;
  /** create: new file; unchanged: an existing lockfile already pins this; update: rewritten, no drift. */
  action: "create" | "unchanged" | "update";
}

/**
 * Scans the server of a wrap candidate as its host would start it, and decides its lockfile (nothing is
 * written). An existing lockfile is kept if the server still matches it.
 *
 * @throws {McpTrustError} (exit 2) if the server cannot be scanned; (exit 1) if it drifted from an
 *   existing lockfile at the same path
 */
export async function lockCandidate(
  c: WrapCandidate,
  opts: { timeoutMs: number; generator: string; onWarning?: (m: string) => void },
): Promise<LockOutcome> {
  const [{ scanServer }, { buildLockfile, nowRfc3339 }, { readLockfile }, { planLock }] = await Promise.all([
    import("../scan/scan_server.ts"),
    import("../lockfile/build.ts"),
    import("../lockfile/load.ts"),
    import("../lockfile/plan_lock.ts"),
  ]);
  const launch = c.launch!;
  const iface = await scanServer(launch.argv, {
    timeoutMs: opts.timeoutMs,
    onWarning: opts.onWarning,
    ...launchEnvironment(launch),
  });
  const fresh = buildLockfile(iface, { generator: opts.generator, updatedAt: nowRfc3339() });
  const existing = existsSync(c.lock!) ? readLockfile(c.lock!) : undefined;
  const plan = planLock(existing, fresh, iface, false);
  if (plan.action === "refuse") {
    const { CheckFailedError } = await import("../errors.ts");
    throw new CheckFailedError(
      `${
        describeEntry(c.entry)
      } has drifted from its existing lockfile ${c.lock} (${plan.drift.items.length} change(s))`,
      {
        hint: `review with \`mcptrust check --lock ${c.lock} -- ${launch.argv.join(" ")}\`; ` +
          `re-approve with \`mcptrust lock --force -o ${c.lock} -- ...\`, then wrap again`,
      },
    );
  }
  return {
    iface,
    lockfile: plan.action === "unchanged" ? existing!.lockfile as LockfileV3 : fresh,
    action: plan.action,
  };
}

/**
 * The environment and working directory a host gives the entry's server: ours plus the entry's env
 * (an undefined value removes a variable), in the entry's cwd. A server may list different tools
 * without its API key, so the scan must see what the host will start.
 *
 * @throws {McpTrustError} if the entry's cwd is not a directory we can enter
 */
export function launchEnvironment(launch: Launch): { env: Record<string, string | undefined>; cwd?: string } {
  const env: Record<string, string | undefined> = { ...process.env };
  for (const [k, val] of Object.entries(launch.env)) {
    if (val === undefined) delete env[k];
    else env[k] = val;
  }
  if (launch.cwd) {
    let ok = false;
    try {
      ok = statSync(launch.cwd).isDirectory();
    } catch {
      ok = false;
    }
    if (!ok) throw new McpTrustError(`the server's cwd ${launch.cwd} is not a directory that can be entered`);
  }
  return { env, cwd: launch.cwd || undefined };
}

/**
 * Writes what `wrap` decided: lockfiles (only new or changed ones), wrap records, then each config
 * (backup, atomic rewrite).
 *
 * @returns the backups written, by config path
 */
export async function commitWrap(
  changes: readonly DocChange[],
  locks: ReadonlyMap<string, LockOutcome>,
  lockDir: string,
): Promise<Map<string, string>> {
  const { writeLockfile } = await import("../lockfile/load.ts");
  // A host may have saved a config while the servers were scanned: check them all before writing any.
  for (const ch of changes) assertUnchanged(ch.doc);
  mkdirSync(lockDir, { recursive: true, mode: 0o700 });
  const backups = new Map<string, string>();
  for (const ch of changes) {
    for (const r of ch.records) {
      const lock = locks.get(r.lock)!;
      if (lock.action !== "unchanged") writeLockfile(r.lock, lock.lockfile);
      writeRecord(recordPathFor(r.lock), r);
    }
    backups.set(ch.doc.path, rewriteConfig(ch.doc.path, ch.doc.text, ch.text));
  }
  return backups;
}

function assertUnchanged(doc: ConfigDoc): void {
  let now: string | undefined;
  try {
    now = readFileSync(doc.path, "utf8");
  } catch { /* reported below */ }
  if (now !== doc.text) {
    throw new McpTrustError(`${doc.path} changed while mcptrust was working on it; nothing was written`, {
      hint: "run the command again (a host may have saved the file just now)",
    });
  }
}

/** One entry and what `unwrap` will do with it. */
export interface UnwrapCandidate {
  doc: ConfigDoc;
  entry: ServerEntry;
  /** Where its record is (beside the lockfile). */
  recordPath?: string;
  record?: WrapRecord;
}

/**
 * The wrapped entries to unwrap.
 *
 * @throws {McpTrustError} (exit 2) if a name in `servers` matches no wrapped server
 */
export function planUnwrap(
  inv: Inventory,
  projectDir: string,
  servers?: readonly string[],
): UnwrapCandidate[] {
  const wanted = servers && servers.length > 0 ? new Set(servers) : undefined;
  const out: UnwrapCandidate[] = [];
  for (const doc of inv.docs) {
    for (const entry of doc.servers) {
      if (wanted && !wanted.has(entry.name)) continue;
      const w = entry.transport === "stdio" && !entry.problem
        ? parseWrapped(entry.command, entry.args)
        : undefined;
      if (!w) continue;
      const c: UnwrapCandidate = { doc, entry };
      if (w.lock !== undefined) {
        c.recordPath = recordPathFor(resolve(entry.project ?? projectDir, w.lock));
        const r = readRecord(c.recordPath);
        // A record made for another entry (a lockfile shared by hand) is not used.
        if (r && r.file === entry.file && JSON.stringify(r.path) === JSON.stringify(entry.path)) c.record = r;
      }
      out.push(c);
    }
  }
  for (const name of wanted ?? []) {
    if (!out.some((c) => c.entry.name === name)) {
      throw new McpTrustError(`no wrapped server named ${JSON.stringify(name)} in the configs looked at`, {
        hint: "run `mcptrust hosts` to see which servers are wrapped",
      });
    }
  }
  return out;
}

/** The rewritten config texts for `unwrap`, and which entries come back byte for byte. */
export function unwrapChanges(cands: readonly UnwrapCandidate[]): {
  changes: { doc: ConfigDoc; text: string; records: string[] }[];
  exact: Map<UnwrapCandidate, boolean>;
} {
  const byDoc = new Map<ConfigDoc, UnwrapCandidate[]>();
  for (const c of cands) byDoc.set(c.doc, [...(byDoc.get(c.doc) ?? []), c]);
  const changes: { doc: ConfigDoc; text: string; records: string[] }[] = [];
  const exact = new Map<UnwrapCandidate, boolean>();
  for (const [doc, list] of byDoc) {
    const edits: TextEdit[] = [];
    const expect = new Map<string, { command: string; args: string[] }>();
    const records: string[] = [];
    for (const c of list) {
      const u = unwrapEdits(doc, c.entry, c.record?.texts, c.record?.argv);
      edits.push(...u.edits);
      exact.set(c, u.exact);
      expect.set(entryKey(c.entry), { command: u.argv[0], args: u.argv.slice(1) });
      if (c.recordPath && c.record) records.push(c.recordPath);
    }
    changes.push({ doc, text: applyChecked(doc, edits, expect), records });
  }
  return { changes, exact };
}

/** Writes what `unwrap` decided: each config (backup, atomic rewrite), then drops the used records. */
export function commitUnwrap(
  changes: readonly { doc: ConfigDoc; text: string; records: string[] }[],
): Map<string, string> {
  for (const ch of changes) assertUnchanged(ch.doc);
  const backups = new Map<string, string>();
  for (const ch of changes) {
    backups.set(ch.doc.path, rewriteConfig(ch.doc.path, ch.doc.text, ch.text));
    for (const r of ch.records) removeRecord(r);
  }
  return backups;
}
