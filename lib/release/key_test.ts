import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { embeddedReleaseKey, RELEASE_PUBLIC_KEY_PEM } from "./key.ts";

const ROOT = new URL("../../", import.meta.url);
const installSh = () => readFileSync(new URL("install.sh", ROOT), "utf8");

test("install.sh embeds the same release key as lib/release/key.ts (one trust root)", () => {
  const block = /# -- release key --\nMCPTRUST_RELEASE_PUBKEY='([^']*)'\n# -- end release key --\n/.exec(
    installSh(),
  );
  assert.ok(block, "install.sh has the release key block");
  assert.equal(block[1].trim(), RELEASE_PUBLIC_KEY_PEM.trim());
  // Either no key yet, or a usable Ed25519 public key.
  if (RELEASE_PUBLIC_KEY_PEM.trim() !== "") {
    assert.match(embeddedReleaseKey()!.fingerprint, /^sha256:[0-9a-f]{64}$/);
  } else assert.equal(embeddedReleaseKey(), undefined);
});

test("install.sh installs, by default, the version this source is (the action pins both with one SHA)", () => {
  const version = JSON.parse(readFileSync(new URL("package.json", ROOT), "utf8")).version;
  assert.match(installSh(), new RegExp(`^MCPTRUST_DEFAULT_VERSION="${version.replace(/\./g, "\\.")}"$`, "m"));
});
