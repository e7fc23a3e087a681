/**
 * `mcptrust run --lock mcp-lock.json [-- extra args]`: run the npm server a lockfile pins, verified,
 * on the runtime inside mcptrust (no Node or npm needed), sandboxed, behind the proxy.
 *
 * @module
 */
import { join } from "node:path";
import process from "node:process";
import { Command, Option } from "@commander-js/extra-typings";
import type { Severity } from "../lib/drift/types.ts";
import type { ProxyMode } from "../lib/proxy/session.ts";
import { McpTrustError } from "../lib/errors.ts";
import { noteRun } from "../lib/observe/run.ts";
import { out, parseDuration, parseProxyFailOn, receiptOption, withLogFields } from "./options.ts";
import { collect } from "./server_target.ts";
import { identityOptions, trustFlagsFrom, type TrustOptionValues } from "./verify.ts";

function parsePositiveInt(text: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n <= 0) {
    throw new McpTrustError(`expected a positive whole number, got ${JSON.stringify(text)}`);
  }
  return n;
}

function stderr(line: string): void {
  process.stderr.write(line.endsWith("\n") ? line : line + "\n");
}

const warned = new Set<string>();
/** The fetcher warns once per request (a private host allowed); say it once per run. */
function stderrOnce(line: string): void {
  if (warned.has(line)) return;
  warned.add(line);
  stderr(line);
}

/** Quotes an argv for display (POSIX shell rules), so the plan can be copied. */
export function shellQuote(argv: readonly string[]): string {
  return argv.map((a) => (/^[A-Za-z0-9_@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`)).join(
    " ",
  );
}

function proxyMode(o: { auditOnly?: boolean; filterOnly?: boolean }): ProxyMode {
  return o.auditOnly ? "audit-only" : o.filterOnly ? "filter-only" : "enforce";
}

/** Builds the `run` command. */
export function runCommand() {
  // Behind the proxy, every line of the run's log (the audit log) carries the mode, as the proxy's does.
  return withLogFields(runCommand_(), (o) => (o.proxy === false ? {} : { mode: proxyMode(o) }));
}

function runCommand_() {
  const cmd = new Command("run")
    .description(
      "Run the npm server a lockfile pins: every tarball verified, no install scripts, on mcptrust's own runtime, sandboxed, behind the proxy.",
    )
    .argument("[args...]", "extra arguments for the server, after `--` (appended to the pinned ones)")
    .option("--lock <file>", "the lockfile with the artifact pin (server.artifact)", "mcp-lock.json")
    .option(
      "-k, --key <file>",
      "verify the lockfile's signature (<lockfile>.sig) with this Ed25519 public key",
    );
  for (const o of identityOptions()) cmd.addOption(o);
  return cmd
    .option(
      "--require-signature",
      "refuse to run unless the lockfile's signature is verified (--key or identity)",
    )
    .option("--no-proxy", "run the server bare, without the enforcement proxy")
    .addOption(
      new Option("--sandbox <mode>", "bubblewrap sandbox: auto (when bwrap is present), on (required), off")
        .choices(["auto", "on", "off"] as const).default("auto" as const),
    )
    .option(
      "--allow-write <path>",
      "in the sandbox: a path the server may write (repeatable)",
      collect,
      [] as string[],
    )
    .option(
      "--allow-read <path>",
      "in the sandbox: a path the server may read (repeatable)",
      collect,
      [] as string[],
    )
    .option("--allow-net", "in the sandbox: keep the network (cut by default)")
    .option(
      "--env <NAME[=VALUE]>",
      "pass NAME from your environment, or set NAME=VALUE, for the server (repeatable)",
      collect,
      [] as string[],
    )
    .option("--cache-dir <dir>", "the cache (default $XDG_CACHE_HOME/mcptrust or ~/.cache/mcptrust)")
    .option(
      "--allow-host <host>",
      "a registry host allowed to resolve to a private address (repeatable)",
      collect,
      [] as string[],
    )
    .option("--ca <file>", "trust these CA certificates (PEM) for the registry instead of the system roots")
    .option("--dry-run", "verify everything and print what would run, without running it")
    .addOption(receiptOption())
    .option("--audit-only", "proxy: block nothing, filter nothing; log every would-be block")
    .option("--filter-only", "proxy: filter list results, let calls through (logged)")
    .addOption(
      new Option(
        "--fail-on <severity>",
        "proxy: preflight drift at or above this severity denies every request (critical, moderate, info, none)",
      ).argParser(parseProxyFailOn).default("critical" as Severity | "none"),
    )
    .option("--timeout <duration>", "proxy: deadline for the preflight listing", parseDuration, 10_000)
    .option(
      "--request-timeout <duration>",
      "proxy: a request the server has not answered by then gets an error",
      parseDuration,
      300_000,
    )
    .option(
      "--max-pending <n>",
      "proxy: most requests waiting for the server at once",
      parsePositiveInt,
      1024,
    )
    .option("--no-validate-args", "proxy: do not validate tools/call arguments against the approved schema")
    .option("--no-validate-results", "proxy: do not validate structured results against the approved schema")
    .option("-P, --policy <preset|file>", "proxy: a CEL policy (docs/POLICY.md)")
    .passThroughOptions()
    .addHelpText(
      "after",
      `
Examples:
  mcptrust run --lock mcp-lock.json --key mcptrust.pub
  mcptrust run --lock mcp-lock.json --key mcptrust.pub --allow-write /srv/data -- /srv/data
  Claude Desktop: "command": "mcptrust", "args": ["run", "--lock", "/abs/mcp-lock.json", "--key", "/abs/mcptrust.pub"]

What it does, failing closed at each step: verifies the lockfile's signature (with --key or a Sigstore
identity; --require-signature makes one mandatory); takes every pinned tarball from the cache (hashed
again) or downloads it (HTTPS only, no private addresses unless --allow-host); checks sha512 and, where
pinned, sha256 and size (a mismatch is exit 1, printing both values); extracts them safely into a private
tree laid out as pinned (optional packages for other platforms skipped); never runs install scripts;
checks the pinned entry against the package's bin; runs it with mcptrust's own runtime, with only PATH,
HOME, LANG, TZ, TMPDIR and --env variables, inside bubblewrap on Linux (package tree read-only, private
/tmp, network cut, nothing else writable), behind the proxy (same flags as \`mcptrust proxy\`).
Cache: tarballs/<sha512 hex> and trees/<key>/ under --cache-dir; both are checked on every use.
Exit code: the server's own; 1 a check failed (signature, integrity, package); 2 could not start.`,
    )
    .action(async (extra, opts) => {
      // Loaded when the command runs, not when the CLI starts.
      const [
        { readLockfile },
        { planRun },
        { defaultCacheDir, RunCache },
        { installTree },
        launchMod,
        { decideSandbox, findBwrap },
      ] = await Promise.all([
        import("../lib/lockfile/load.ts"),
        import("../lib/runner/run_plan.ts"),
        import("../lib/runner/cache.ts"),
        import("../lib/runner/install.ts"),
        import("../lib/runner/launch.ts"),
        import("../lib/runner/sandbox.ts"),
      ]);
      const o = opts as typeof opts & TrustOptionValues;
      const cwd = process.cwd();

      // 1. The lockfile and its signature, over the bytes that are then used.
      const loaded = readLockfile(opts.lock);
      const flags = trustFlagsFrom(o);
      const trustGiven = [flags.key, flags.identity, flags.identityRegexp, flags.issuer, flags.trustedRoot]
        .some((x) => x !== undefined);
      if (opts.requireSignature && !trustGiven) {
        throw new McpTrustError(
          "--require-signature: no signer was named, so the signature cannot be checked",
          {
            hint:
              "pass --key PUB (Ed25519), or --certificate-identity ID --certificate-oidc-issuer ISS (Sigstore)",
          },
        );
      }
      const { createHash } = await import("node:crypto");
      const lockSha256 = createHash("sha256").update(loaded.bytes).digest("hex");
      noteRun({ lockfile: { path: opts.lock, sha256: lockSha256 } });
      if (loaded.version === "3") {
        noteRun({ server: { name: loaded.lockfile.server.name, version: loaded.lockfile.server.version } });
      }
      let signature: {
        status: "verified" | "not checked" | "unsigned";
        signer?: import("../lib/crypto/verifier.ts").Signer;
      };
      const sigPath = `${opts.lock}.sig`;
      if (trustGiven) {
        const { readSignatureBytes, verifyLockfile } = await import("../lib/crypto/verifier.ts");
        const verified = await verifyLockfile({
          lockfile: { path: opts.lock, bytes: loaded.bytes },
          signature: { path: sigPath, bytes: readSignatureBytes(sigPath) },
          flags,
        });
        signature = { status: "verified", signer: verified.signer };
      } else {
        const { existsSync } = await import("node:fs");
        signature = { status: existsSync(sigPath) ? "not checked" : "unsigned" };
      }

      // 2. The plan, and the sandbox decision (before any download: --sandbox on fails fast).
      const plan = planRun(loaded);
      const mode = ({ auto: "auto", on: "required", off: "off" } as const)[opts.sandbox];
      const decision = decideSandbox(mode, process.platform, findBwrap(process.env.PATH));
      const allowWrite = launchMod.sandboxPaths("--allow-write", opts.allowWrite, cwd);
      const allowRead = launchMod.sandboxPaths("--allow-read", opts.allowRead, cwd);
      const envFlags = launchMod.parseEnvFlags(opts.env);
      let ca: string | undefined;
      if (opts.ca !== undefined) {
        const { readFileSync } = await import("node:fs");
        try {
          ca = readFileSync(opts.ca, "utf8");
        } catch (err) {
          throw new McpTrustError(`cannot read --ca ${opts.ca}: ${(err as Error).message}`);
        }
      }

      // 3. Verified tree (cache or download), entry checked against the package's bin.
      const cache = RunCache.open(opts.cacheDir ?? defaultCacheDir());
      const self = launchMod.selfPath();
      const sandboxOpts = {
        self,
        env: process.env,
        envFlags,
        cwd,
        allowNet: opts.allowNet === true,
        allowWrite,
        allowRead,
      };
      // Whether bwrap starts here is checked while the tree is: the same namespaces and binds, with the
      // cache's trees/ directory bound where the tree will be (the tree may not exist yet).
      const probe = decision.bwrap
        ? launchMod.probeSandbox(launchMod.buildLaunch({
          ...sandboxOpts,
          tree: cache.trees,
          entry: join(cache.trees, "probe"),
          args: [],
          bwrap: decision.bwrap,
        }))
        : Promise.resolve(undefined);
      let npmrc: import("../lib/artifact/npmrc.ts").NpmConfig | undefined;
      const { loadNpmConfig } = await import("../lib/artifact/npmrc.ts");
      const tree = await installTree(plan, {
        cache,
        fetch: { allowHosts: opts.allowHost, ca, onWarning: stderrOnce },
        tokenFor: (url) => (npmrc ??= loadNpmConfig({ cwd })).tokenFor(url)?.reveal(),
        warn: stderr,
      });
      const { bin, entry } = launchMod.resolveEntry(tree.packageDir, plan);
      // Provenance recorded by lock --pin --verify-provenance: verified again, offline, against the
      // pinned integrity the tree was just checked against (exit 1 if it no longer verifies).
      if (loaded.version === "3") {
        const { verifyRecordedProvenance } = await import("../lib/artifact/provenance.ts");
        await verifyRecordedProvenance(loaded.lockfile.server.artifact);
      }
      const args = [...plan.launch.args, ...extra];
      const launchOpts = { ...sandboxOpts, tree: tree.root, entry, args };
      let launch = launchMod.buildLaunch({ ...launchOpts, bwrap: decision.bwrap });
      let sandboxLine: string;
      let sandboxNote: string | undefined = decision.warning;
      if (launch.bwrap) {
        const failure = await probe;
        if (failure !== undefined) {
          if (mode === "required") {
            throw new McpTrustError(
              `the sandbox was required, but bubblewrap cannot start here: ${failure}`,
              {
                hint:
                  "allow unprivileged user namespaces (sysctl kernel.unprivileged_userns_clone=1), or run " +
                  "without --sandbox on",
              },
            );
          }
          sandboxNote = `warning: bubblewrap (${launch.bwrap}) cannot start here (${failure}); the server ` +
            "runs unsandboxed with your user's rights";
          launch = launchMod.buildLaunch({ ...launchOpts, bwrap: undefined });
        }
      }
      const writable = allowWrite.length ? allowWrite.join(", ") : "nothing but a private /tmp";
      if (launch.bwrap) {
        sandboxLine =
          `mcptrust: sandbox: bubblewrap (${launch.bwrap}): package tree and runtime read-only, ` +
          `network ${opts.allowNet ? "allowed (--allow-net)" : "cut"}, writable: ${writable}`;
      } else if (mode === "off") {
        sandboxLine = "mcptrust: sandbox: off (--sandbox off); the server runs with your user's rights";
      } else {
        sandboxLine = `mcptrust: sandbox: none. ${sandboxNote?.replace(/^warning: /, "") ?? ""}`.trim();
      }
      const deps = plan.packages.length - 1;
      const downloaded = tree.packages.filter((p) => p.source === "download").length;
      const signed = signature.status === "verified"
        ? `signature verified (${describeSigner(signature.signer)})`
        : `signature ${signature.status}`;
      stderr(
        `mcptrust: verified ${plan.root.name}@${plan.root.version} and ${deps} dependenc${
          deps === 1 ? "y" : "ies"
        }` +
          (tree.source === "cache" ? " (cached tree, checked)" : ` (${downloaded} downloaded)`) +
          `${plan.skipped.length ? `, ${plan.skipped.length} optional skipped` : ""}; lockfile ${signed}`,
      );
      stderr(sandboxLine);

      // 4. The verification record (for --receipt: the run's receipt, written when the run ends), then
      // the plan (dry run) or the server.
      const environment = Object.keys(launch.serverEnv);
      const { receiptWanted } = await import("../lib/observe/run.ts");
      if (receiptWanted()) {
        const { buildRunVerification } = await import("../lib/runner/receipt.ts");
        const { resolve } = await import("node:path");
        noteRun({
          details: {
            run: buildRunVerification({
              dryRun: opts.dryRun === true,
              lockfile: { path: resolve(opts.lock), sha256: lockSha256 },
              signature,
              plan,
              tree,
              launch: { bin, entry, args, runtime: self, argv: launch.argv, cwd: launch.serverCwd },
              environment,
              sandbox: launch.bwrap
                ? {
                  applied: true,
                  kind: "bubblewrap",
                  bwrap: launch.bwrap,
                  network: opts.allowNet ? "allowed" : "cut",
                  writable: allowWrite,
                  readable: allowRead,
                }
                : {
                  applied: false,
                  network: "unrestricted",
                  writable: [],
                  readable: [],
                  reason: mode === "off" ? "--sandbox off" : (sandboxNote ?? "").replace(/^warning: /, ""),
                },
              proxy: opts.proxy
                ? { enabled: true, mode: proxyMode(opts), fail_on: String(opts.failOn) }
                : { enabled: false },
            }),
          },
        });
      }
      if (opts.dryRun) {
        await out(renderPlan({
          lock: opts.lock,
          lockSha256,
          signed,
          plan,
          tree,
          bin,
          launch,
          envFlags,
          sandboxLine,
          proxy: opts.proxy
            ? `enforcing ${opts.lock} (${proxyMode(opts)}, fail-on ${opts.failOn})`
            : "off (--no-proxy)",
        }));
        noteRun({ outcome: "verified (dry run)" });
        return;
      }
      if (!opts.proxy) {
        process.exitCode = await launchMod.runBare(launch);
        noteRun({ outcome: `server exit code ${process.exitCode}` });
        return;
      }
      process.exitCode = await runBehindProxy(launch, loaded, signature, opts);
    });
}

function describeSigner(s: import("../lib/crypto/verifier.ts").Signer | undefined): string {
  if (!s) return "unknown signer";
  return s.type === "ed25519" ? `ed25519 key ${s.fingerprint}` : `sigstore ${s.identity} (${s.issuer})`;
}

interface PlanView {
  lock: string;
  lockSha256: string;
  signed: string;
  plan: import("../lib/runner/run_plan.ts").RunPlan;
  tree: import("../lib/runner/install.ts").InstalledTree;
  bin: string;
  launch: import("../lib/runner/launch.ts").Launch;
  envFlags: import("../lib/runner/launch.ts").EnvFlags;
  sandboxLine: string;
  proxy: string;
}

/** The dry run's plan, for people: what was verified, what would run, with what around it. */
export function renderPlan(v: PlanView): string {
  const lines: string[] = [];
  const byPath = new Map(v.tree.packages.map((p) => [p.path, p]));
  const pkgLine = (path: string) => {
    const p = byPath.get(path)!;
    return `${p.name}@${p.version}  ${p.integrity.split(/\s+/)[0]}  (${p.source})`;
  };
  lines.push("mcptrust run --dry-run: everything verified; nothing started");
  lines.push(`lockfile    ${v.lock} (sha256 ${v.lockSha256}), ${v.signed}`);
  const sig = v.plan.registrySignature;
  lines.push(
    `package     ${pkgLine(v.plan.root.path)}${
      sig ? `; registry signature at pin time: ${sig.status}${sig.keyid ? ` (${sig.keyid})` : ""}` : ""
    }`,
  );
  for (const p of v.plan.packages.filter((p) => !p.root)) lines.push(`  ${p.path}  ${pkgLine(p.path)}`);
  for (const s of v.plan.skipped) {
    lines.push(`  skipped ${s.path} (${s.name}@${s.version}, optional): ${s.reason}`);
  }
  lines.push(
    `tree        ${v.tree.root} (${v.tree.source === "cache" ? "cached, checked" : "extracted now"})`,
  );
  lines.push(`entry       bin ${v.bin} -> ${v.plan.launch.entry}`);
  lines.push(`would run   ${shellQuote(v.launch.argv)}`);
  lines.push(`cwd         ${v.launch.serverCwd}`);
  const hidden = new Set([...v.envFlags.passEnv, ...Object.keys(v.envFlags.setEnv)]);
  const env = Object.keys(v.launch.serverEnv).sort().map((k) =>
    hidden.has(k) ? `${k}=<from --env, not shown>` : `${k}=${v.launch.serverEnv[k]}`
  );
  lines.push(`environment ${env.join("\n            ")}`);
  lines.push(`sandbox     ${v.sandboxLine.replace(/^mcptrust: sandbox: /, "")}`);
  lines.push(`proxy       ${v.proxy}`);
  return lines.join("\n") + "\n";
}

async function runBehindProxy(
  launch: import("../lib/runner/launch.ts").Launch,
  loaded: import("../lib/lockfile/load.ts").LoadedLockfile,
  signature: {
    status: "verified" | "not checked" | "unsigned";
    signer?: import("../lib/crypto/verifier.ts").Signer;
  },
  opts: {
    lock: string;
    auditOnly?: boolean;
    filterOnly?: boolean;
    failOn: Severity | "none";
    timeout: number;
    requestTimeout: number;
    maxPending: number;
    validateArgs: boolean;
    validateResults: boolean;
    policy?: string;
  },
): Promise<number> {
  // The same pieces, in the same order, as `mcptrust proxy` (commands/proxy.ts).
  const [{ auditLogOn }, { createCorePolicy }, { runProxy }, { schemaGuardFor }, observe] = await Promise.all(
    [
      import("../lib/observe/audit_log.ts"),
      import("../lib/proxy/core_policy.ts"),
      import("../lib/proxy/run_proxy.ts"),
      import("../lib/proxy/schema_guard.ts"),
      import("../lib/observe/run.ts"),
    ],
  );
  if (loaded.version !== "3") throw new McpTrustError(`the proxy needs a v3 lockfile; ${opts.lock} is not`);
  const compiled = opts.policy !== undefined
    ? (await import("../lib/policy/cel/policy_check.ts")).loadCheckPolicy(opts.policy, { needsRules: false })
    : undefined;
  const mode = proxyMode(opts);
  // Refuse to start if the policy core cannot load: fail closed before the server ever runs.
  const policy = await createCorePolicy(loaded.lockfile);
  const celPolicy = compiled
    ? (await import("../lib/proxy/cel_policy.ts")).proxyCelPolicy(compiled, {
      argv: launch.argv,
      lockfile: { loaded, signature: signature.status, signer: signature.signer },
    })
    : undefined;
  if (compiled) noteRun({ policy: { name: compiled.doc.name, source: compiled.doc.source.name } });
  const telemetry = observe.runTelemetry();
  const observer = observe.receiptWanted() || telemetry
    ? (await import("../lib/observe/proxy_observer.ts")).createProxyObserver(telemetry)
    : undefined;
  const audit = auditLogOn(observe.runLog(), mode);
  const log = observer ? observer.tap(audit) : audit;
  log.write({
    level: "info",
    event: "proxy.start",
    reason: `enforcing ${opts.lock}`,
    lockfile: opts.lock,
    fail_on: opts.failOn,
    ...(compiled ? { policy: compiled.doc.name, policy_source: compiled.doc.source.name } : {}),
    signature: signature.status,
  });
  try {
    const code = await runProxy(launch.argv, {
      mode,
      failOn: opts.failOn,
      lockfile: loaded,
      policy,
      log,
      maxPending: opts.maxPending,
      requestTtlMs: opts.requestTimeout,
      preflightTimeoutMs: opts.timeout,
      guard: schemaGuardFor(opts),
      celPolicy,
      observer,
      env: launch.env,
    });
    log.write({ level: "info", event: "proxy.exit", reason: `server exit code ${code}` });
    noteRun({ outcome: `server exit code ${code}` });
    return code;
  } finally {
    if (observer) {
      observer.close();
      noteRun({ decisions: observer.summary() });
    }
    log.close();
  }
}
