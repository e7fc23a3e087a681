#!/usr/bin/env bash
# make demo: lock the bundled server-filesystem on a temp directory, summarize what was locked, then run
# check against a drifted fixture server and show the failure. Offline after `make setup`.
set -uo pipefail
cd "$(dirname "$0")/.."
BIN=${MCPTRUST_BIN:-dist/mcptrust}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/shared docs"
echo "hello" > "$work/shared docs/readme.txt"
FS=(node node_modules/@modelcontextprotocol/server-filesystem/dist/index.js "$work/shared docs")

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

step "1. Lock @modelcontextprotocol/server-filesystem (a real server, root has a space in its name)"
echo "\$ mcptrust lock -o $work/mcp-lock.json -- ${FS[*]}"
"$BIN" lock -o "$work/mcp-lock.json" -- "${FS[@]}" || exit 1

step "2. Check the same server: no drift"
"$BIN" check --lock "$work/mcp-lock.json" -- "${FS[@]}" || exit 1

step "3. A server that drifted after approval: a new exec_shell tool appears"
BASE=(node testdata/servers/fixture_server.mjs testdata/servers/scenarios/base.json)
DRIFT=(node testdata/servers/fixture_server.mjs testdata/servers/scenarios/drift_tool_added.json)
"$BIN" lock -o "$work/fixture-lock.json" -- "${BASE[@]}" >/dev/null || exit 1
echo "\$ mcptrust check --lock fixture-lock.json -- <drifted server>"
"$BIN" check --lock "$work/fixture-lock.json" -- "${DRIFT[@]}"
code=$?
echo "(exit code $code: 1 means the CI gate failed, as it should)"
[ "$code" -eq 1 ] || exit 1

step "4. The same drifted server behind the proxy: exec_shell is filtered out and its call is blocked"
init='{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"demo","version":"1"}}}'
inited='{"jsonrpc":"2.0","method":"notifications/initialized"}'
list='{"jsonrpc":"2.0","id":2,"method":"tools/list"}'
call='{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"exec_shell","arguments":{"command":"id"}}}'
echo "\$ mcptrust proxy --fail-on none --lock fixture-lock.json -- <drifted server>   (host sends tools/list, then calls exec_shell)"
printf '%s\n' "$init" "$inited" "$list" "$call" |
  "$BIN" proxy --fail-on none --log-output "$work/audit.jsonl" --lock "$work/fixture-lock.json" -- "${DRIFT[@]}" |
  node -e '
    const lines = require("fs").readFileSync(0, "utf8").trim().split("\n").map((l) => JSON.parse(l));
    for (const m of lines) {
      if (m.id === 2) console.log("tools/list ->", m.result.tools.map((t) => t.name).join(", "));
      if (m.id === 3) console.log("tools/call exec_shell ->", m.error.code, m.error.message);
    }'
echo "audit log:"
grep -E '"event":"(drop|block)"' "$work/audit.jsonl" | cut -c1-200
