import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { inspect } from "node:util";
import { DEFAULT_REGISTRY, expandEnv, loadNpmConfig, parseNpmrc } from "./npmrc.ts";

const SECRET = "npm_abcdefSECRET123";

function withDirs(fn: (home: string, project: string) => void): void {
  const root = mkdtempSync(join(tmpdir(), "mcptrust-npmrc-"));
  try {
    const home = join(root, "home");
    const project = join(root, "work", "proj");
    mkdirSync(home, { recursive: true });
    mkdirSync(join(project, "sub", "deeper"), { recursive: true });
    writeFileSync(join(project, "package.json"), "{}");
    fn(home, project);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

test("with no .npmrc, every package comes from the public registry and no token is sent", () =>
  withDirs((home, project) => {
    const cfg = loadNpmConfig({ home, cwd: project, env: {} });
    assert.deepEqual(cfg.registryFor("pkg"), { url: DEFAULT_REGISTRY, source: "default" });
    assert.deepEqual(cfg.registryFor("@s/pkg"), { url: DEFAULT_REGISTRY, source: "default" });
    assert.equal(cfg.tokenFor(`${DEFAULT_REGISTRY}pkg`), undefined);
    assert.deepEqual(cfg.files, []);
  }));

test("registry= and @scope:registry= choose the registry; the project file wins over the user file", () =>
  withDirs((home, project) => {
    writeFileSync(
      join(home, ".npmrc"),
      "registry=https://user.example.com/npm\n@acme:registry=https://acme.example.com/\n@other:registry = https://other.example.com/r/\n",
    );
    writeFileSync(join(project, ".npmrc"), "; project\n@acme:registry=https://proj-acme.example.com/\n");
    // Started from a subdirectory: the project .npmrc is found at the package.json level.
    const cfg = loadNpmConfig({ home, cwd: join(project, "sub", "deeper"), env: {} });
    assert.deepEqual(cfg.registryFor("plain"), {
      url: "https://user.example.com/npm/",
      source: join(home, ".npmrc"),
    });
    assert.equal(cfg.registryFor("@acme/srv").url, "https://proj-acme.example.com/");
    assert.equal(cfg.registryFor("@acme/srv").source, join(project, ".npmrc"));
    assert.equal(cfg.registryFor("@other/x").url, "https://other.example.com/r/");
    assert.equal(cfg.registryFor("@nobody/x").url, "https://user.example.com/npm/");
    assert.deepEqual(cfg.files, [join(project, ".npmrc"), join(home, ".npmrc")]);
  }));

test("the environment and --registry override the files; scoped registries still apply", () =>
  withDirs((home, project) => {
    writeFileSync(
      join(home, ".npmrc"),
      "registry=https://file.example.com/\n@acme:registry=https://acme.example.com/\n",
    );
    const env = { npm_config_registry: "https://env.example.com/" };
    assert.equal(loadNpmConfig({ home, cwd: project, env }).registryFor("x").url, "https://env.example.com/");
    const cli = loadNpmConfig({ home, cwd: project, env, cliRegistry: "https://cli.example.com" });
    assert.deepEqual(cli.registryFor("x"), { url: "https://cli.example.com/", source: "--registry" });
    assert.equal(cli.registryFor("@acme/y").url, "https://acme.example.com/");
  }));

test("npm_config_userconfig names the user file", () =>
  withDirs((home, project) => {
    const alt = join(home, "alt.npmrc");
    writeFileSync(alt, "registry=https://alt.example.com/\n");
    const cfg = loadNpmConfig({ home, cwd: project, env: { NPM_CONFIG_USERCONFIG: alt } });
    assert.equal(cfg.registryFor("x").url, "https://alt.example.com/");
  }));

test("_authToken: ${ENV} expanded, matched by the longest path prefix of the request URL, host and port exact", () =>
  withDirs((home, project) => {
    writeFileSync(
      join(home, ".npmrc"),
      [
        "//npm.example.com/:_authToken=${NPM_TOKEN}",
        "//npm.example.com/team/:_authToken=team-token",
        "//NPM.Example.com:8443/:_authToken=port-token",
        "//unset.example.com/:_authToken=${NOT_SET}",
        "//empty.example.com/:_authToken=${NOT_SET?}",
        "//basic.example.com/:_auth=dXNlcjpwYXNz",
      ].join("\n"),
    );
    const cfg = loadNpmConfig({ home, cwd: project, env: { NPM_TOKEN: SECRET } });
    assert.equal(cfg.tokenFor("https://npm.example.com/pkg")?.reveal(), SECRET);
    assert.equal(cfg.tokenFor("https://npm.example.com/pkg/-/pkg-1.0.0.tgz")?.reveal(), SECRET);
    assert.equal(cfg.tokenFor("https://npm.example.com/team/pkg")?.reveal(), "team-token");
    assert.equal(cfg.tokenFor("https://npm.example.com:8443/pkg")?.reveal(), "port-token");
    assert.equal(cfg.tokenFor("https://other.example.com/pkg"), undefined);
    assert.equal(cfg.tokenFor("https://evil.npm.example.com/pkg"), undefined);
    assert.equal(cfg.tokenFor("https://unset.example.com/pkg"), undefined);
    assert.equal(cfg.tokenFor("https://empty.example.com/pkg"), undefined);
    assert.equal(cfg.tokenFor("https://basic.example.com/pkg"), undefined);
    assert.equal(cfg.warnings.length, 2);
    assert.match(cfg.warnings.join("\n"), /unset environment variable/);
    assert.match(cfg.warnings.join("\n"), /basic auth\) is not supported/);
    assert.ok(!cfg.warnings.join("\n").includes("dXNlcjpwYXNz"));
  }));

test("a token never prints itself: String, template, JSON, util.inspect", () =>
  withDirs((home, project) => {
    writeFileSync(join(home, ".npmrc"), `//npm.example.com/:_authToken=${SECRET}\n`);
    const t = loadNpmConfig({ home, cwd: project, env: {} }).tokenFor("https://npm.example.com/x")!;
    for (const shown of [String(t), `${t}`, JSON.stringify({ t }), inspect(t), inspect({ t })]) {
      assert.ok(!shown.includes(SECRET), shown);
      assert.match(shown, /redacted/);
    }
    assert.equal(t.reveal(), SECRET);
    assert.match(t.source, /\.npmrc \(\/\/npm\.example\.com\/\)/);
  }));

test("ini syntax: comments, inline comments, quotes, escapes, sections", () => {
  const m = parseNpmrc(
    [
      "# comment",
      "; comment",
      "a = 1 ; inline",
      "b=two # inline",
      'c="quoted ; kept"',
      "d='single # kept'",
      "e=esc\\;aped",
      "flag",
      "[section]",
      "registry=https://not-the-registry.example.com/",
    ].join("\n"),
    {},
  );
  assert.equal(m.get("a"), "1");
  assert.equal(m.get("b"), "two");
  assert.equal(m.get("c"), "quoted ; kept");
  assert.equal(m.get("d"), "single # kept");
  assert.equal(m.get("e"), "esc;aped");
  assert.equal(m.get("flag"), "true");
  assert.equal(m.get("registry"), undefined);
  assert.equal(m.get("section.registry"), "https://not-the-registry.example.com/");
});

test("${VAR} expansion follows npm: unset stays literal, ? makes it empty, backslash escapes", () => {
  const env = { A: "x" };
  assert.equal(expandEnv("${A}-${B}-${B?}", env), "x-${B}-");
  assert.equal(expandEnv("\\${A}", env), "${A}");
  assert.equal(expandEnv("\\\\${A}", env), "\\x");
});

test("a registry that is not a URL is an operational error naming its source", () =>
  withDirs((home, project) => {
    writeFileSync(join(home, ".npmrc"), "registry=not a url\n");
    assert.throws(
      () => loadNpmConfig({ home, cwd: project, env: {} }).registryFor("x"),
      (e: Error & { exitCode?: number }) => e.exitCode === 2 && e.message.includes(".npmrc"),
    );
  }));
