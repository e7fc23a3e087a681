import { test } from "node:test";
import assert from "node:assert/strict";
import { EXIT_OPERATIONAL, McpTrustError } from "../errors.ts";
import { isLauncherCommand, type LauncherCommand, parseLauncher, parsePackageSpec } from "./launcher.ts";

type Want = Omit<LauncherCommand, "launcher"> & { launcher?: LauncherCommand["launcher"] };
const MEM = "@modelcontextprotocol/server-memory";

// [command line (split on single spaces; no case needs quoting), expected]
const ACCEPTED: [string, Want][] = [
  // npx
  [`npx -y ${MEM}@2026.8.31`, {
    name: MEM,
    spec: "2026.8.31",
    specType: "version",
    version: "2026.8.31",
    args: [],
  }],
  [`npx -y ${MEM}@2026.8.31 /data --verbose`, {
    name: MEM,
    spec: "2026.8.31",
    specType: "version",
    version: "2026.8.31",
    args: ["/data", "--verbose"],
  }],
  ["npx --yes pkg@1.2.3 -y --registry x", {
    name: "pkg",
    spec: "1.2.3",
    specType: "version",
    version: "1.2.3",
    args: ["-y", "--registry", "x"], // after the package: the server's own arguments
  }],
  ["npx pkg", { name: "pkg", spec: "latest", specType: "tag", args: [] }],
  ["npx pkg@next a", { name: "pkg", spec: "next", specType: "tag", args: ["a"] }],
  ["npx pkg@^1.2.0", { name: "pkg", spec: "^1.2.0", specType: "range", args: [] }],
  ["npx pkg@*", { name: "pkg", spec: "*", specType: "range", args: [] }],
  ["npx pkg@v1.2.3", { name: "pkg", spec: "v1.2.3", specType: "version", version: "1.2.3", args: [] }],
  ["npx @scope/pkg", { name: "@scope/pkg", spec: "latest", specType: "tag", args: [] }],
  ["npx --package=@scope/pkg@1.0.0 -- srv --port 1", {
    name: "@scope/pkg",
    spec: "1.0.0",
    specType: "version",
    version: "1.0.0",
    bin: "srv",
    args: ["--port", "1"],
  }],
  ["npx -p pkg@2.0.0 srv a b", {
    name: "pkg",
    spec: "2.0.0",
    specType: "version",
    version: "2.0.0",
    bin: "srv",
    args: ["a", "b"],
  }],
  ["npx --package pkg srv", { name: "pkg", spec: "latest", specType: "tag", bin: "srv", args: [] }],
  ["npx -- pkg@1.0.0 --help", {
    name: "pkg",
    spec: "1.0.0",
    specType: "version",
    version: "1.0.0",
    args: ["--help"],
  }],
  ["npx -q --no-install --prefer-offline pkg@1.0.0", {
    name: "pkg",
    spec: "1.0.0",
    specType: "version",
    version: "1.0.0",
    args: [],
  }],
  ["npx --registry=https://npm.example.com/ pkg@1.0.0", {
    name: "pkg",
    spec: "1.0.0",
    specType: "version",
    version: "1.0.0",
    args: [],
    registry: "https://npm.example.com/",
  }],
  ["npx --registry https://npm.example.com/ --yes=true pkg", {
    name: "pkg",
    spec: "latest",
    specType: "tag",
    args: [],
    registry: "https://npm.example.com/",
  }],
  ["npx mem@npm:@scope/real@3.1.4 x", {
    name: "@scope/real",
    spec: "3.1.4",
    specType: "version",
    version: "3.1.4",
    alias: "mem",
    args: ["x"],
  }],
  ["npx npm:real@~2", { name: "real", spec: "~2", specType: "range", args: [] }],
  ["/usr/local/bin/npx -y pkg@1.0.0", {
    name: "pkg",
    spec: "1.0.0",
    specType: "version",
    version: "1.0.0",
    args: [],
  }],
  ["npx.cmd -y pkg@1.0.0", { name: "pkg", spec: "1.0.0", specType: "version", version: "1.0.0", args: [] }],
  // npm exec / npm x
  ["npm exec pkg@1.0.0 -- --port 3", {
    launcher: "npm exec",
    name: "pkg",
    spec: "1.0.0",
    specType: "version",
    version: "1.0.0",
    args: ["--port", "3"],
  }],
  ["npm exec -y pkg@1.0.0 a -- b", {
    launcher: "npm exec",
    name: "pkg",
    spec: "1.0.0",
    specType: "version",
    version: "1.0.0",
    args: ["a", "b"],
  }],
  ["npm exec pkg@1.0.0 --yes", { // nopt: --yes before `--` is npm's own
    launcher: "npm exec",
    name: "pkg",
    spec: "1.0.0",
    specType: "version",
    version: "1.0.0",
    args: [],
  }],
  ["npm exec --package=@scope/pkg@1.0.0 -- srv -x", {
    launcher: "npm exec",
    name: "@scope/pkg",
    spec: "1.0.0",
    specType: "version",
    version: "1.0.0",
    bin: "srv",
    args: ["-x"],
  }],
  ["npm --yes x -- pkg@latest", {
    launcher: "npm exec",
    name: "pkg",
    spec: "latest",
    specType: "tag",
    args: [],
  }],
  // bunx / bun x
  ["bunx pkg@1.0.0 --flag", {
    launcher: "bunx",
    name: "pkg",
    spec: "1.0.0",
    specType: "version",
    version: "1.0.0",
    args: ["--flag"],
  }],
  ["bunx --bun -p @scope/pkg@1.0.0 srv a", {
    launcher: "bunx",
    name: "@scope/pkg",
    spec: "1.0.0",
    specType: "version",
    version: "1.0.0",
    bin: "srv",
    args: ["a"],
  }],
  ["bun x --package=pkg@^2 srv", {
    launcher: "bunx",
    name: "pkg",
    spec: "^2",
    specType: "range",
    bin: "srv",
    args: [],
  }],
  // pnpm dlx / pnpx
  ["pnpm dlx pkg@1.0.0 a", {
    launcher: "pnpm dlx",
    name: "pkg",
    spec: "1.0.0",
    specType: "version",
    version: "1.0.0",
    args: ["a"],
  }],
  ["pnpm --package=@scope/pkg@1.0.0 dlx srv --x", {
    launcher: "pnpm dlx",
    name: "@scope/pkg",
    spec: "1.0.0",
    specType: "version",
    version: "1.0.0",
    bin: "srv",
    args: ["--x"],
  }],
  ["pnpm dlx --silent --package pkg srv", {
    launcher: "pnpm dlx",
    name: "pkg",
    spec: "latest",
    specType: "tag",
    bin: "srv",
    args: [],
  }],
  ["pnpx pkg@next", { launcher: "pnpm dlx", name: "pkg", spec: "next", specType: "tag", args: [] }],
];

const REFUSED: [string, RegExp][] = [
  ["npx -c 'srv --x'", /shell command string cannot be pinned/],
  ["npx --call=srv", /shell command string cannot be pinned/],
  ["npm exec -c srv", /shell command string cannot be pinned/],
  ["pnpm dlx -c srv", /shell command string cannot be pinned/],
  ["pnpm --shell-mode dlx srv", /shell command string cannot be pinned/],
  ["npx github:acme/srv", /a git repository, not a registry package/],
  ["npx acme/srv", /a git repository/],
  ["npx git+https://github.com/acme/srv.git", /a git repository/],
  ["npx pkg@github:acme/srv", /a git repository/],
  ["npx ./srv", /a local directory/],
  ["npx file:../srv.tgz", /a local tarball/],
  ["npx srv-1.0.0.tgz", /a local tarball/],
  ["npx https://example.com/srv.tgz", /a tarball URL/],
  ["npx alias@npm:real@file:../x", /a local directory|not a registry package|cannot pin/],
  ["pnpm dlx pkg@workspace:*", /Unsupported URL Type "workspace:"/],
  ["pnpm dlx pkg@catalog:", /Unsupported URL Type "catalog:"/],
  ["npx -p a -p b srv", /2 packages/],
  ["npx --foo pkg", /does not know how npx reads it/],
  ["npx -yq pkg", /does not know how npx reads it/],
  ["npx --userconfig ./rc pkg", /separate npm config file/],
  ["npx -w ws pkg", /workspaces are not supported/],
  ["npx -y", /no package given/],
  ["npx -p pkg", /no command given/],
  ["npx --registry", /needs a value/],
  ["npx --yes=maybe pkg", /takes no value/],
  ["npm install pkg", /only `npm exec`/],
  ["npm -y pkg", /only `npm exec`/],
  ["npm -- pkg", /not `npm exec`/],
  ["pnpm add pkg", /only `pnpm dlx`/],
  ["pnpm exec srv", /only `pnpm dlx`/],
  ["bunx --cwd /tmp pkg", /--cwd/],
  ["bunx --trust pkg", /lifecycle scripts/],
  ["node server.js", /not a package launcher/],
  ["uvx mcp-server-git", /not a package launcher/],
  ["npx pkg@1.0.0%", /cannot pin/],
  ["npx ../UPPER CASE", /cannot pin/],
];

test("launcher commands are read as the launcher reads them", () => {
  for (const [line, want] of ACCEPTED) {
    const argv = line.split(" ");
    assert.ok(isLauncherCommand(argv), line);
    const got = parseLauncher(argv);
    const expected = { launcher: want.launcher ?? "npx", ...want };
    assert.deepEqual(got, expected, line);
  }
});

test("commands that cannot be pinned are refused with a reason (exit 2)", () => {
  for (const [line, why] of REFUSED) {
    const argv = line.split(" ");
    assert.throws(() => parseLauncher(argv), (e: unknown) => {
      assert.ok(e instanceof McpTrustError, `${line}: ${e}`);
      assert.equal(e.exitCode, EXIT_OPERATIONAL);
      assert.match(e.message, why, line);
      return true;
    }, line);
  }
});

test("the case table is large enough to mean something", () => {
  assert.ok(ACCEPTED.length + REFUSED.length >= 60);
});

test("arguments are kept verbatim: spaces, empty strings and dashes are never re-split", () => {
  const got = parseLauncher(["npx", "-y", "pkg@1.0.0", "a b", "", "--", "-x=1 2"]);
  assert.deepEqual(got.args, ["a b", "", "--", "-x=1 2"]);
});

test("parsePackageSpec keeps build metadata out of the version and refuses non-registry specs", () => {
  assert.deepEqual(parsePackageSpec("pkg@=1.2.3"), {
    name: "pkg",
    spec: "=1.2.3",
    specType: "version",
    version: "1.2.3",
    alias: undefined,
  });
  assert.equal(parsePackageSpec("pkg@1.2.3+build.7").version, "1.2.3");
  assert.equal(parsePackageSpec("@s/p@>=1 <2").specType, "range");
  assert.throws(() => parsePackageSpec("/abs/dir"), /local directory/);
  assert.throws(() => parsePackageSpec("git://host/x.git"), /git repository/);
});

test("isLauncherCommand recognises launchers by argv[0]'s basename only", () => {
  assert.ok(isLauncherCommand(["C:\\Program Files\\nodejs\\npx.cmd", "x"]));
  assert.ok(isLauncherCommand(["bun", "x", "pkg"]));
  assert.ok(!isLauncherCommand(["bun", "run", "x.ts"]));
  assert.ok(!isLauncherCommand(["node", "npx"]));
  assert.ok(!isLauncherCommand([]));
});
