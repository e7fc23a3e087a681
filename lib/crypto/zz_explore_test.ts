import { readFileSync, existsSync } from "node:fs";
import { parseBundleJSON, verifySigstoreBundle } from "./sigstore.ts";
const dir = new URL("../../testdata/vectors/sigstore-conformance/bundle-verify/", import.meta.url);
const a = readFileSync(new URL("../a.txt", dir));
const ID = "https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main";
for (const c of ["bundle-malformed-json_fail","dsse-invalid-sig_fail","happy-path-intoto-in-dsse-v3","happy-path-v0.1","happy-path-v0.3","intoto-with-custom-trust-root","managed-key-happy-path","managed-key-wrong-key_fail","signature-mismatch_fail","wrong-hashedrekord-artifact_fail"]) {
  const d = new URL(c + "/", dir);
  const f = (n: string) => new URL(n, d);
  try {
    const bundle = parseBundleJSON(readFileSync(f("bundle.sigstore.json")));
    const art = existsSync(f("artifact")) ? readFileSync(f("artifact")) : a;
    const opts: Record<string, unknown> = {};
    if (existsSync(f("key.pub"))) opts.publicKeyPem = readFileSync(f("key.pub"), "utf8");
    else opts.policy = { identity: ID, issuer: "https://token.actions.githubusercontent.com" };
    if (existsSync(f("trusted_root.json"))) opts.trustedRoot = JSON.parse(readFileSync(f("trusted_root.json"), "utf8"));
    console.log(c, "OK", await verifySigstoreBundle(bundle, art, opts));
  } catch (e) { console.log(c, "ERR", (e as Error).name, (e as {check?:string}).check, (e as Error).message); }
}
