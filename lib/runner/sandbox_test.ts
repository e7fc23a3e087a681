import { test } from "node:test";
import assert from "node:assert/strict";
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { EXIT_OPERATIONAL, McpTrustError } from "../errors.ts";
import { buildBwrapArgv, decideSandbox, findBwrap, sandboxEnv, type SandboxSpec } from "./sandbox.ts";

const ROOT = "/home/u/.cache/mcptrust/pkgs/abc";
const SPEC: SandboxSpec = {
  bwrap: "/usr/bin/bwrap",
  self: "/usr/local/bin/mcptrust",
  entry: `${ROOT}/node_modules/@scope/srv/dist/index.js`,
  args: ["--root", "/data", "a b"],
  packageRoot: ROOT,
  env: {
    PATH: "/usr/bin:/bin",
    LANG: "C.UTF-8",
    HOME: "/home/u",
    NPM_TOKEN: "npm_secret",
    AWS_SECRET_ACCESS_KEY: "aws_secret",
    GITHUB_TOKEN: "ghp_secret",
    API_KEY: "k",
  },
};
// A host where every system path exists.
const all = () => true;

/** The value after each occurrence of `flag` (n values per occurrence). */
function values(argv: string[], flag: string, n = 1): string[][] {
  const out: string[][] = [];
  const end = argv.indexOf("--");
  for (let i = 0; i < end; i++) if (argv[i] === flag) out.push(argv.slice(i + 1, i + 1 + n));
  return out;
}

test("default: no network, read-only package tree and runtime, private /tmp, clean environment", () => {
  const argv = buildBwrapArgv(SPEC, all);
  assert.equal(argv[0], "/usr/bin/bwrap");
  for (const f of ["--die-with-parent", "--new-session", "--unshare-net", "--unshare-pid", "--clearenv"]) {
    assert.ok(argv.indexOf(f) > 0 && argv.indexOf(f) < argv.indexOf("--"), f);
  }
  assert.deepEqual(values(argv, "--cap-drop"), [["ALL"]]);
  // The command: our binary runs the entry script; args verbatim, after `--`.
  assert.deepEqual(argv.slice(argv.indexOf("--") + 1), [SPEC.self, SPEC.entry, "--root", "/data", "a b"]);
  // Nothing writable but the tmpfs.
  assert.deepEqual(values(argv, "--bind", 2), []);
  assert.deepEqual(values(argv, "--tmpfs"), [["/tmp"]]);
  const ro = values(argv, "--ro-bind", 2).map(([a]) => a);
  assert.ok(ro.includes(ROOT) && ro.includes(SPEC.self) && ro.includes("/usr") && ro.includes("/etc/ssl"));
  assert.ok(
    !ro.includes("/home/u") && !ro.includes("/") && !ro.includes("/etc"),
    "no home, no root, not all of /etc",
  );
  // Package tree and binary bound last among the mounts.
  assert.deepEqual(ro.slice(-2), [ROOT, SPEC.self]);
  assert.deepEqual(values(argv, "--chdir"), [["/tmp/home"]]);
});

test("the environment holds only the allowlist; secrets in the caller's environment stay out", () => {
  const argv = buildBwrapArgv(SPEC, all);
  const env = Object.fromEntries(values(argv, "--setenv", 2));
  assert.deepEqual(env, {
    PATH: "/usr/bin:/bin",
    LANG: "C.UTF-8",
    HOME: "/tmp/home",
    TMPDIR: "/tmp",
    BUN_BE_BUN: "1",
  });
  assert.ok(!argv.join("\n").includes("secret"));
});

test("explicit extras: passEnv names and setEnv values; HOME, TMPDIR and BUN_BE_BUN cannot be overridden", () => {
  const env = sandboxEnv({
    ...SPEC,
    passEnv: ["API_KEY", "UNSET_ONE"],
    setEnv: { MODE: "ro", HOME: "/home/u" },
  });
  assert.deepEqual(env, {
    PATH: "/usr/bin:/bin",
    LANG: "C.UTF-8",
    API_KEY: "k",
    MODE: "ro",
    HOME: "/tmp/home",
    TMPDIR: "/tmp",
    BUN_BE_BUN: "1",
  });
  assert.throws(() => sandboxEnv({ env: {}, passEnv: ["A=B"] }), /not an environment variable name/);
});

test("allowNet drops --unshare-net only; allowWrite and allowRead add exactly those binds", () => {
  const argv = buildBwrapArgv({
    ...SPEC,
    allowNet: true,
    allowWrite: ["/data/"],
    allowRead: ["/srv/ref"],
    cwd: "/data",
  }, all);
  assert.ok(!argv.includes("--unshare-net"));
  assert.ok(argv.includes("--unshare-pid"));
  assert.deepEqual(values(argv, "--bind", 2), [["/data", "/data"]]);
  assert.ok(values(argv, "--ro-bind", 2).some(([a]) => a === "/srv/ref"));
  assert.deepEqual(values(argv, "--chdir"), [["/data"]]);
});

test("system paths absent on the host are skipped (bwrap fails on a missing --ro-bind source)", () => {
  const argv = buildBwrapArgv(SPEC, (p) => p === "/usr" || p === "/etc/resolv.conf");
  const ro = values(argv, "--ro-bind", 2).map(([a]) => a);
  assert.deepEqual(ro, ["/usr", "/etc/resolv.conf", ROOT, SPEC.self]);
});

test("refused: relative paths, an entry outside the tree, a writable path over the tree or the runtime", () => {
  const cases: [Partial<SandboxSpec>, RegExp][] = [
    [{ self: "mcptrust" }, /absolute path/],
    [{ packageRoot: "cache/abc" }, /absolute path/],
    [{ entry: "/tmp/evil.js" }, /not inside the package tree/],
    [{ entry: `${ROOT}/../other/x.js` }, /not inside the package tree/],
    [{ allowWrite: ["/home/u"] }, /cannot be writable/],
    [{ allowWrite: [`${ROOT}/node_modules`] }, /cannot be writable/],
    [{ allowWrite: ["/usr/local"] }, /cannot be writable/],
    [{ allowWrite: ["/"] }, /cannot be writable/],
    [{ allowRead: ["rel"] }, /absolute path/],
    [{ cwd: "." }, /absolute path/],
  ];
  for (const [patch, why] of cases) {
    assert.throws(() => buildBwrapArgv({ ...SPEC, ...patch }, all), (e: unknown) => {
      assert.ok(e instanceof McpTrustError);
      assert.equal(e.exitCode, EXIT_OPERATIONAL);
      assert.match(e.message, why, JSON.stringify(patch));
      return true;
    });
  }
});

test("findBwrap: the first executable regular file named bwrap on PATH; empty and relative entries skipped", () => {
  const root = mkdtempSync(join(tmpdir(), "mcptrust-bwrap-"));
  try {
    const [a, b, c] = ["a", "b", "c"].map((d) => join(root, d));
    for (const d of [a, b, c]) mkdirSync(d);
    writeFileSync(join(a, "bwrap"), "not executable");
    chmodSync(join(a, "bwrap"), 0o644);
    mkdirSync(join(b, "bwrap")); // a directory, not a program
    writeFileSync(join(c, "bwrap"), "#!/bin/sh\n");
    chmodSync(join(c, "bwrap"), 0o755);
    assert.equal(findBwrap(`::.:relative:${a}:${b}:${c}`), join(c, "bwrap"));
    assert.equal(findBwrap(`${a}:${b}`), undefined);
    assert.equal(findBwrap(undefined), undefined);
    assert.equal(findBwrap("/x:/y", (p) => p === "/y/bwrap"), "/y/bwrap");
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test("decideSandbox fails closed when required and unavailable, warns in auto mode", () => {
  assert.deepEqual(decideSandbox("required", "linux", "/usr/bin/bwrap"), { bwrap: "/usr/bin/bwrap" });
  assert.throws(
    () => decideSandbox("required", "linux", undefined),
    (e: McpTrustError) => /not on PATH/.test(e.message) && /apt-get install bubblewrap/.test(e.hint ?? ""),
  );
  assert.throws(() => decideSandbox("required", "darwin", undefined), /only available on Linux/);
  assert.match(decideSandbox("auto", "linux", undefined).warning ?? "", /unsandboxed/);
  assert.equal(decideSandbox("auto", "linux", "/b").bwrap, "/b");
  assert.deepEqual(decideSandbox("off", "linux", "/b"), {});
});

test("the sandbox root is remounted read-only after the binds; runtime options go between runtime and entry", () => {
  const argv = buildBwrapArgv({ ...SPEC, runtimeArgs: ["--no-install", "--no-env-file"] }, all);
  const end = argv.indexOf("--");
  const remount = argv.indexOf("--remount-ro");
  assert.equal(argv[remount + 1], "/");
  // After every bind (a bind after it would be writable again) and before the command.
  const lastBind = Math.max(...argv.slice(0, end).flatMap((a, i) => (a.endsWith("bind") ? [i] : [])));
  assert.ok(remount > lastBind && remount < end);
  assert.deepEqual(argv.slice(end + 1), [
    SPEC.self,
    "--no-install",
    "--no-env-file",
    SPEC.entry,
    "--root",
    "/data",
    "a b",
  ]);
});

test("envFromProcess: no environment values on the command line (every user can read it while bwrap runs)", () => {
  const spec = { ...SPEC, setEnv: { API_KEY: "sk-secret" }, passEnv: ["NPM_TOKEN"], envFromProcess: true };
  const argv = buildBwrapArgv(spec, all);
  assert.ok(!argv.includes("--setenv") && !argv.includes("--clearenv"));
  assert.ok(!argv.join("\n").includes("secret"));
  // The caller spawns bwrap with exactly this environment.
  assert.deepEqual(sandboxEnv(spec), {
    PATH: "/usr/bin:/bin",
    LANG: "C.UTF-8",
    NPM_TOKEN: "npm_secret",
    API_KEY: "sk-secret",
    HOME: "/tmp/home",
    TMPDIR: "/tmp",
    BUN_BE_BUN: "1",
  });
});
