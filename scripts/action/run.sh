#!/bin/sh
# The GitHub Action's second step (action.yml): run the verified mcptrust binary in the chosen mode, write
# the job summary, and set the outputs. Inputs come only from the environment (never interpolated into
# a script: a server command or file name cannot inject shell code).
#
#   MCPTRUST_BIN          the verified binary (the action's install step; tests pass dist/mcptrust)
#   INPUT_MODE            lock | check | policy (default check)
#   INPUT_LOCKFILE        default mcp-lock.json
#   INPUT_FAIL_ON         critical | moderate | info (check; default critical)
#   INPUT_POLICY          check: also evaluate this preset or file; policy: the preset or file (default baseline)
#   INPUT_SERVER_COMMAND  the server's argv: one argument per line, a YAML list (- item lines, or [a, b]),
#                         or one line split on spaces (no quoting: use the list forms for spaces or quotes)
#   INPUT_TIMEOUT         scan deadline (default 60s: npx may first download the server)
#   GITHUB_OUTPUT, GITHUB_STEP_SUMMARY, RUNNER_TEMP   as GitHub Actions sets them (optional here)
#
# Outputs: result (pass | fail | error), drift_count (check and lock modes), report_path.
# Exit code: mcptrust's (0 pass, 1 check failed, 2 error), so the step fails the job on drift.
set -eu

err() { printf '::error title=mcptrust::%s\n' "$*" >&2; }
output() { if [ -n "${GITHUB_OUTPUT:-}" ]; then printf '%s=%s\n' "$1" "$2" >>"$GITHUB_OUTPUT"; fi; }
summary() { if [ -n "${GITHUB_STEP_SUMMARY:-}" ]; then printf '%s\n' "$@" >>"$GITHUB_STEP_SUMMARY"; fi; }
# Appends FILE to the summary in a code fence longer than any backtick run in it (so text from the
# server cannot close the fence and inject Markdown).
summary_fenced() {
  [ -n "${GITHUB_STEP_SUMMARY:-}" ] || return 0
  fence=$(awk '{ n = 0; for (i = 1; i <= length($0); i++) { if (substr($0, i, 1) == "`") { n++; if (n > m) m = n } else n = 0 } }
    END { f = "```"; for (i = 3; i <= m; i++) f = f "`"; print f }' "$1")
  { printf '%s\n' "$fence"; cat "$1"; printf '%s\n' "$fence"; } >>"$GITHUB_STEP_SUMMARY"
}
finish() { # result drift_count report_path exit_code
  output result "$1"
  output drift_count "$2"
  output report_path "$3"
  exit "$4"
}

bin=${MCPTRUST_BIN:-}
if [ -z "$bin" ] || [ ! -x "$bin" ]; then
  err "no mcptrust binary (MCPTRUST_BIN=$bin)"
  finish error "" "" 2
fi
mode=${INPUT_MODE:-check}
lockfile=${INPUT_LOCKFILE:-mcp-lock.json}
fail_on=${INPUT_FAIL_ON:-critical}
policy=${INPUT_POLICY:-}
timeout=${INPUT_TIMEOUT:-60s}
case $mode in
  lock | check | policy) ;;
  *)
    err "mode must be lock, check or policy, not '$mode'"
    finish error "" "" 2
    ;;
esac
case $fail_on in
  critical | moderate | info) ;;
  *)
    err "fail_on must be critical, moderate or info, not '$fail_on'"
    finish error "" "" 2
    ;;
esac

# --- the server command -> "$@" ------------------------------------------------------------------------
cmd=${INPUT_SERVER_COMMAND:-}
trim() { # prints $1 without leading and trailing blanks
  t=${1#"${1%%[![:space:]]*}"}
  printf '%s' "${t%"${t##*[![:space:]]}"}"
}
# A YAML scalar as a list item: 'single' ('' is a quote), "double" (no escapes accepted), or plain.
unquote() {
  case $1 in
    \'*\')
      u=${1#\'}
      u=${u%\'}
      printf '%s' "$u" | sed "s/''/'/g"
      ;;
    \"*\")
      case $1 in *\\*) return 1 ;; esac
      u=${1#\"}
      printf '%s' "${u%\"}"
      ;;
    *) printf '%s' "$1" ;;
  esac
}
bad_command() {
  err "server_command: $*"
  summary "### mcptrust $mode: ⚠️ ERROR" "" "server_command: $*"
  finish error "" "" 2
}
lines=$(printf '%s\n' "$cmd" | grep -c '[^[:space:]]' || true)
set --
if [ "$lines" -gt 1 ]; then
  # One argument per line; a YAML block list when every line is "- item".
  yaml=0
  if [ "$(printf '%s\n' "$cmd" | grep '[^[:space:]]' | grep -c -v '^[[:space:]]*- ' || true)" = 0 ]; then yaml=1; fi
  while IFS= read -r line; do
    item=$(trim "$line")
    [ -n "$item" ] || continue
    if [ "$yaml" = 1 ]; then
      item=$(trim "${item#- }")
      item=$(unquote "$item") || bad_command "a double-quoted list item with a backslash is ambiguous: write it plain or single-quoted"
    fi
    set -- "$@" "$item"
  done <<EOF
$cmd
EOF
elif [ "$lines" = 1 ]; then
  one=$(trim "$(printf '%s\n' "$cmd" | grep '[^[:space:]]')")
  case $one in
    \[*\])
      # A YAML flow list: [npx, -y, "@scope/pkg", /tmp] (items cannot contain commas).
      rest=${one#\[}
      rest=${rest%\]},
      while [ -n "$rest" ]; do
        item=$(trim "${rest%%,*}")
        rest=${rest#*,}
        [ -n "$item" ] || bad_command "an empty item in the list $one"
        item=$(unquote "$item") || bad_command "a double-quoted list item with a backslash is ambiguous"
        set -- "$@" "$item"
      done
      ;;
    *[\'\"\\]*)
      bad_command "quotes and backslashes are not interpreted in the one-line form; give one argument per line (a YAML list) instead"
      ;;
    *)
      set -f
      # shellcheck disable=SC2086 # splitting on blanks is the point; globbing is off
      set -- $one
      set +f
      ;;
  esac
fi
[ $# -gt 0 ] || bad_command "empty: give the server's command, e.g. npx -y @modelcontextprotocol/server-filesystem /tmp"

# --- run -----------------------------------------------------------------------------------------------
report_dir=${RUNNER_TEMP:-${TMPDIR:-/tmp}}/mcptrust-report
mkdir -p "$report_dir"
errlog=$report_dir/$mode.stderr
rc=0
case $mode in
  check)
    report=$report_dir/check.sarif
    set -- check --lock "$lockfile" --fail-on "$fail_on" --timeout "$timeout" --format sarif \
      ${GITHUB_STEP_SUMMARY:+--summary "$GITHUB_STEP_SUMMARY"} ${policy:+--policy "$policy"} -- "$@"
    ;;
  lock)
    report=$lockfile
    set -- lock --output "$lockfile" --timeout "$timeout" -- "$@"
    ;;
  policy)
    report=$report_dir/policy.txt
    preset="" policy_file=""
    case ${policy:-baseline} in
      baseline | strict) preset=${policy:-baseline} ;;
      *) policy_file=$policy ;;
    esac
    locked=""
    if [ -f "$lockfile" ]; then locked=$lockfile; fi
    set -- policy check ${preset:+--preset "$preset"} ${policy_file:+--policy "$policy_file"} \
      ${locked:+--lock "$locked"} --timeout "$timeout" -- "$@"
    ;;
esac
echo "mcptrust $*" >&2
if [ "$mode" = lock ]; then
  "$bin" "$@" >"$report_dir/lock.txt" 2>"$errlog" || rc=$?
  cat "$report_dir/lock.txt"
else
  "$bin" "$@" >"$report" 2>"$errlog" || rc=$?
fi
cat "$errlog" >&2

case $rc in
  0) result=pass ;;
  1) result=fail ;;
  *) result=error ;;
esac
drift=""
case $mode in
  check)
    if [ "$rc" -le 1 ]; then
      # The SARIF run's "driftCount" member (pretty-printed by us, one member per line; a string value
      # cannot start a line, so text from the server cannot fake it).
      drift=$(sed -n 's/^ *"driftCount": \([0-9][0-9]*\),\{0,1\}$/\1/p' "$report" | head -n 1)
    fi
    ;;
  lock)
    if [ "$rc" = 0 ]; then drift=0; fi
    if [ "$rc" = 1 ]; then
      # lock prints the drift it refuses on stderr, as check's text report: "CRITICAL (2)" group headers.
      drift=$(awk '/^(CRITICAL|MODERATE|INFO) \([0-9]+\)$/ { gsub(/[^0-9]/, ""); n += $0 } END { print n + 0 }' \
        "$errlog")
    fi
    ;;
esac
if [ "$rc" -gt 1 ]; then
  err "mcptrust $mode failed (exit $rc): $(head -n 1 "$errlog")"
  summary "### mcptrust $mode: ⚠️ ERROR (exit $rc)" ""
  summary_fenced "$errlog"
elif [ "$mode" = lock ]; then
  summary "### mcptrust lock: $([ "$rc" = 0 ] && echo '✅ PASS' || echo '❌ FAIL')" ""
  cat "$report_dir/lock.txt" "$errlog" >"$report_dir/lock.log"
  summary_fenced "$report_dir/lock.log"
elif [ "$mode" = policy ]; then
  summary "### mcptrust policy: $([ "$rc" = 0 ] && echo '✅ PASS' || echo '❌ FAIL')" ""
  summary_fenced "$report"
else
  if [ "$rc" = 1 ]; then err "the server drifted from $lockfile ($drift drift items at or above $fail_on); see the job summary"; fi
fi
finish "$result" "$drift" "$report" "$rc"
