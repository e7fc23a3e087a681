import { test } from "node:test";
import assert from "node:assert/strict";
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { devNull, tmpdir } from "node:os";
import { join } from "node:path";
import { EXIT_CHECK_FAILED, McpTrustError } from "../errors.ts";
import {
  bareEnv,
  buildLaunch,
  parseEnvFlags,
  probeSandbox,
  resolveEntry,
  RUNTIME_FLAGS,
  sandboxPaths,
} from "./launch.ts";
import type { RunPlan } from "./run_plan.ts";

const ENV = {
  PATH: "/usr/bin:/bin",
  HOME: "/home/u",
  LANG: "C.UTF-8",
  TMPDIR: "/var/tmp",
  NPM_TOKEN: "npm_secret",
  AWS_SECRET_ACCESS_KEY: "aws_secret",
  API_KEY: "k",
  NODE_OPTIONS: "--require /tmp/evil.js",
};

function plan(launch: RunPlan["launch"], name = "@s/srv"): RunPlan {
  return { root: { name } as RunPlan["root"], packages: [], skipped: [], launch, treeKey: "0".repeat(64) };
}

function pkgDir(bin: unknown, files: string[] = ["dist/cli.js"]): string {
  const dir = mkdtempSync(join(tmpdir(), "mcptrust-launch-"));
  writeFileSync(join(dir, "package.json"), JSON.stringify({ name: "@s/srv", version: "1.0.0", bin }));
  for (const f of files) {
    mkdirSync(join(dir, f, ".."), { recursive: true });
    writeFileSync(join(dir, f), "");
  }
  return dir;
}

function checkFailed(fn: () => unknown, re: RegExp) {
  assert.throws(fn, (e: McpTrustError) => e.exitCode === EXIT_CHECK_FAILED && re.test(e.message));
}

test("--env: NAME copies ours, NAME=VALUE sets it; bad names and BUN_BE_BUN refused", () => {
  assert.deepEqual(parseEnvFlags(["API_KEY", "MODE=ro", "EMPTY=", "EQ=a=b"]), {
    passEnv: ["API_KEY"],
    setEnv: { MODE: "ro", EMPTY: "", EQ: "a=b" },
  });
  assert.throws(() => parseEnvFlags(["=x"]), /not a variable name/);
  assert.throws(() => parseEnvFlags(["A-B=1"]), /not a variable name/);
  assert.throws(() => parseEnvFlags(["BUN_BE_BUN=0"]), /sets it itself/);
});

test("the server's environment is the allowlist plus --env; our secrets and NODE_OPTIONS stay out", () => {
  const env = bareEnv(ENV, parseEnvFlags(["API_KEY", "MODE=ro", "UNSET_ONE"]));
  assert.deepEqual(env, {
    PATH: "/usr/bin:/bin",
    HOME: "/home/u",
    LANG: "C.UTF-8",
    TMPDIR: "/var/tmp",
    API_KEY: "k",
    MODE: "ro",
    BUN_BE_BUN: "1",
  });
});

test("the entry is the pinned file and must be what package.json's bin names", () => {
  const dir = pkgDir({ "srv": "./dist/cli.js", "other": "dist/other.js" }, ["dist/cli.js", "dist/other.js"]);
  try {
    assert.deepEqual(resolveEntry(dir, plan({ bin: "srv", entry: "dist/cli.js", args: [] })), {
      bin: "srv",
      entry: join(dir, "dist/cli.js"),
    });
    // Without launch.bin, the bin is found by its file.
    assert.equal(resolveEntry(dir, plan({ entry: "dist/other.js", args: [] })).bin, "other");
    checkFailed(
      () => resolveEntry(dir, plan({ bin: "srv", entry: "dist/other.js", args: [] })),
      /runs dist\/other\.js as bin "srv", but @s\/srv's package\.json says "srv" is \.\/dist\/cli\.js/,
    );
    checkFailed(
      () => resolveEntry(dir, plan({ bin: "nope", entry: "dist/cli.js", args: [] })),
      /bin "nope", which @s\/srv's package\.json does not declare \(bins: "srv", "other"\)/,
    );
    checkFailed(() => resolveEntry(dir, plan({ entry: "dist/x.js", args: [] })), /not a bin of @s\/srv/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const str = pkgDir("dist/cli.js", []);
  try {
    // A string bin is named after the unscoped package name; the file must exist.
    checkFailed(
      () => resolveEntry(str, plan({ bin: "srv", entry: "dist/cli.js", args: [] })),
      /entry dist\/cli\.js of @s\/srv is not a file/,
    );
  } finally {
    rmSync(str, { recursive: true, force: true });
  }
});

test("bare launch: our runtime, told to ignore the working directory's config, then the entry and args", () => {
  const l = buildLaunch({
    self: "/opt/mcptrust",
    tree: "/c/trees/k/root",
    entry: "/c/trees/k/root/node_modules/srv/cli.js",
    args: ["--pinned", "a b", "extra"],
    env: ENV,
    envFlags: parseEnvFlags([]),
    cwd: "/work",
  });
  assert.deepEqual(RUNTIME_FLAGS, ["--no-install", "--no-env-file", `--config=${devNull}`]);
  assert.deepEqual(l.argv, [
    "/opt/mcptrust",
    ...RUNTIME_FLAGS,
    "/c/trees/k/root/node_modules/srv/cli.js",
    "--pinned",
    "a b",
    "extra",
  ]);
  assert.equal(l.env.BUN_BE_BUN, "1");
  assert.equal(l.env.NPM_TOKEN, undefined);
  assert.equal(l.cwd, "/work");
  assert.equal(l.bwrap, undefined);
});

test("sandboxed launch: bwrap around the same command; tree and runtime read-only, network cut, private HOME", () => {
  const opts = {
    self: "/opt/mcptrust",
    tree: "/c/trees/k/root",
    entry: "/c/trees/k/root/node_modules/srv/cli.js",
    args: ["x"],
    env: ENV,
    envFlags: parseEnvFlags(["API_KEY"]),
    cwd: "/work",
    bwrap: "/usr/bin/bwrap",
  };
  const l = buildLaunch(opts);
  const end = l.argv.indexOf("--");
  const flags = l.argv.slice(0, end);
  assert.equal(l.argv[0], "/usr/bin/bwrap");
  for (const f of ["--unshare-net", "--die-with-parent", "--new-session"]) {
    assert.ok(flags.includes(f), f);
  }
  const ro = flags.flatMap((a, i) => (a === "--ro-bind" ? [flags[i + 1]] : []));
  assert.ok(ro.includes("/c/trees/k/root") && ro.includes("/opt/mcptrust"));
  assert.deepEqual(flags.filter((a) => a === "--bind"), [], "nothing writable");
  assert.equal(flags[flags.indexOf("--remount-ro") + 1], "/");
  assert.deepEqual(l.argv.slice(end + 1), ["/opt/mcptrust", ...RUNTIME_FLAGS, opts.entry, "x"]);
  assert.deepEqual(l.sandboxPrefix, l.argv.slice(0, end + 1));
  assert.equal(l.serverEnv.HOME, "/tmp/home");
  assert.equal(l.serverEnv.API_KEY, "k");
  assert.equal(l.serverEnv.NPM_TOKEN, undefined);
  assert.equal(l.serverCwd, "/tmp/home");
  // The environment goes to bwrap as its own (bwrap hands it on), never on its command line.
  assert.deepEqual(l.env, l.serverEnv);
  assert.ok(!flags.includes("--setenv") && !flags.includes("--clearenv"));
  assert.ok(!l.argv.includes("k"), "an --env value on the command line");

  const open = buildLaunch({ ...opts, allowNet: true, allowWrite: ["/srv/data"] });
  assert.ok(!open.argv.includes("--unshare-net"));
  const i = open.argv.indexOf("--bind");
  assert.deepEqual(open.argv.slice(i, i + 3), ["--bind", "/srv/data", "/srv/data"]);
  assert.throws(() => buildLaunch({ ...opts, allowWrite: ["/c/trees"] }), /must stay read-only/);
});

test("--allow-write paths: relative ones resolved against the working directory; missing ones refused", () => {
  const dir = mkdtempSync(join(tmpdir(), "mcptrust-launch-"));
  try {
    mkdirSync(join(dir, "data"));
    assert.deepEqual(sandboxPaths("--allow-write", ["data", `${dir}/data/`], dir), [
      `${dir}/data`,
      `${dir}/data`,
    ]);
    assert.throws(
      () => sandboxPaths("--allow-write", ["nope"], dir),
      /--allow-write nope: .* does not exist/,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("the sandbox probe reports what bwrap said when it cannot start, and nothing when it can", async () => {
  const dir = mkdtempSync(join(tmpdir(), "mcptrust-launch-"));
  try {
    const broken = join(dir, "bwrap-broken");
    writeFileSync(broken, "#!/bin/sh\necho 'bwrap: setting up uid map: Permission denied' >&2\nexit 1\n");
    const working = join(dir, "bwrap-working");
    // Runs the command after `--`, as bwrap does once the sandbox is set up.
    writeFileSync(working, '#!/bin/sh\nwhile [ "$1" != "--" ]; do shift; done\nshift\nexec "$@"\n');
    chmodSync(broken, 0o755);
    chmodSync(working, 0o755);
    const launch = (bwrap: string) =>
      buildLaunch({
        self: "/bin/true",
        tree: dir,
        entry: join(dir, "x.js"),
        args: [],
        env: ENV,
        envFlags: parseEnvFlags([]),
        cwd: dir,
        bwrap,
      });
    assert.equal(await probeSandbox(launch(broken)), "bwrap: setting up uid map: Permission denied");
    assert.equal(await probeSandbox(launch(working)), undefined);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
