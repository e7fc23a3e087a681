import { PolicyCore } from "./lib/policy/core.ts";
const names = [
  "echo",
  "get-annotated-message",
  "get-env",
  "get-resource-links",
  "get-resource-reference",
  "get-structured-content",
  "get-sum",
  "get-tiny-image",
  "gzip-file-as-resource",
  "simulate-research-query",
  "toggle-simulated-logging",
  "toggle-subscriber-updates",
  "trigger-long-running-operation",
];
for (const len of [341, 342, 683, 684, 5000]) {
  const core = PolicyCore.load();
  const fp = (n: string) => (n + "|").repeat(Math.ceil(len / (n.length + 1))).slice(0, len);
  core.setAllowlist({ tools: names.map((n) => ({ name: n, fingerprint: fp(n) })) });
  const ds = core.verifyList("tool", names.map((n) => ({ key: n, fingerprint: fp(n) })));
  console.log(
    len,
    ds.map((d, i) => d.allow ? "" : names[i] + ":" + d.code).filter(Boolean).join(" ") || "all verified",
  );
}
