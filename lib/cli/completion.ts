/**
 * Shell completion scripts (bash, zsh, fish) generated from the CLI model (lib/cli/model.ts), so they
 * complete exactly the commands and flags the binary parses.
 *
 * All three walk the words typed so far the same way: option words are skipped (with the value of an
 * option that takes one), known subcommand names move down the tree (`policy` then `check`), anything
 * else (positionals) is ignored; after `--` the server's command line is completed as commands and files.
 * Then: the value of the previous option (its choices, files for file-like values), else the current
 * command's flags when the word starts with `-`, else its subcommands or the fixed choices of its
 * first argument (files when it has neither).
 *
 * The tables are generated as `case`/`switch` statements: no process is started per keystroke.
 *
 * @module
 */
import { allCommands, type CliCommand, type CliOption } from "./model.ts";

/** The shells `mcptrust completion` writes for. */
export const SHELLS = ["bash", "zsh", "fish"] as const;
export type Shell = typeof SHELLS[number];

/** Value names that are paths: their values complete as files. */
const FILE_VALUES = /file|path|dir|lock|key|output|bundle|receipt|policy|sig|config|cert|root|artifact/i;

/** What an option's value completes to: choices, "@file", "@any"; undefined for a flag. */
function valueSpec(o: CliOption): string | undefined {
  if (o.valueName === undefined) return undefined;
  if (o.choices?.length) return o.choices.join(" ");
  return FILE_VALUES.test(o.valueName) ? "@file" : "@any";
}

function flagsOf(o: CliOption): string[] {
  return [o.long, o.short].filter((f): f is string => f !== undefined);
}

function oneLine(text: string): string {
  return text.replace(/\s+/g, " ").trim();
}

/** POSIX shell single quotes. */
function sq(text: string): string {
  return `'${text.replace(/'/g, `'\\''`)}'`;
}

/** fish single quotes (only \\ and \' are escapes inside). */
function fq(text: string): string {
  return `'${text.replace(/\\/g, "\\\\").replace(/'/g, "\\'")}'`;
}

interface Tables {
  /** path -> [name, description] of its subcommands ("help" lists the top-level commands). */
  subs: Map<string, [string, string][]>;
  /** path -> [flag, description] of its options (long and short forms). */
  opts: Map<string, [string, string][]>;
  /** [path, child name, child path]. */
  children: [string, string, string][];
  /** [path, flag, spec] for options that take a value. */
  values: [string, string, string][];
}

function tables(root: CliCommand): Tables {
  const t: Tables = { subs: new Map(), opts: new Map(), children: [], values: [] };
  for (const c of allCommands(root)) {
    const path = c.path.join(" ");
    const subs: [string, string][] = c.subcommands.map((s) => [s.name, oneLine(s.description)]);
    // A leaf whose first argument has fixed choices (`completion <shell>`) completes them like subcommands.
    const first = c.arguments[0];
    if (!c.subcommands.length && first?.choices) {
      for (const ch of first.choices) subs.push([ch, oneLine(first.description)]);
    }
    if (c === root) subs.push(["help", "display help for a command"]);
    if (subs.length) t.subs.set(path, subs);
    for (const s of c.subcommands) {
      for (const n of [s.name, ...s.aliases]) t.children.push([path, n, s.path.join(" ")]);
    }
    const opts: [string, string][] = [];
    for (const o of c.options) {
      for (const f of flagsOf(o)) {
        opts.push([f, oneLine(o.description)]);
        const spec = valueSpec(o);
        if (spec !== undefined) t.values.push([path, f, spec]);
      }
    }
    t.opts.set(path, opts);
  }
  // `mcptrust help <command>`
  t.subs.set("help", root.subcommands.map((s) => [s.name, oneLine(s.description)]));
  t.children.push(["", "help", "help"]);
  return t;
}

/** The helper functions bash and zsh share (POSIX `case`, printf). */
function posixHelpers(t: Tables): string {
  const caseLines = (m: Map<string, [string, string][]>) =>
    [...m].map(([path, items]) =>
      `    ${sq(path)}) printf '%s\\n' ${items.map(([n, d]) => sq(`${n}:${d}`)).join(" ")} ;;`
    ).join("\n");
  return `# Subcommands of a command path, one "name:description" per line.
_mcptrust_subs() {
  case "$1" in
${caseLines(t.subs)}
  esac
}
# Options of a command path, one "flag:description" per line.
_mcptrust_opts() {
  case "$1" in
${caseLines(t.opts)}
  esac
}
# The path below $1 named $2; fails if $2 is not a subcommand of $1.
_mcptrust_child() {
  case "$1|$2" in
${t.children.map(([p, n, c]) => `    ${sq(`${p}|${n}`)}) printf '%s\\n' ${sq(c)} ;;`).join("\n")}
    'help|'*) printf '%s\\n' help ;;
    *) return 1 ;;
  esac
}
# What the value of option $2 of path $1 completes to (choices, @file or @any); fails for a flag.
_mcptrust_value() {
  case "$1|$2" in
${t.values.map(([p, f, s]) => `    ${sq(`${p}|${f}`)}) printf '%s\\n' ${sq(s)} ;;`).join("\n")}
    *) return 1 ;;
  esac
}`;
}

function bash(t: Tables): string {
  return `# bash completion for mcptrust (generated by \`mcptrust completion bash\`; do not edit).
# Load it: source <(mcptrust completion bash), or save it as
# ~/.local/share/bash-completion/completions/mcptrust.
${posixHelpers(t)}
_mcptrust_words() {
  local l
  while IFS= read -r l; do printf '%s ' "\${l%%:*}"; done
}
_mcptrust() {
  local cur="\${COMP_WORDS[COMP_CWORD]}" prev="" cpath="" w i skip=0 next spec
  ((COMP_CWORD > 0)) && prev="\${COMP_WORDS[COMP_CWORD-1]}"
  COMPREPLY=()
  for ((i = 1; i < COMP_CWORD; i++)); do
    w="\${COMP_WORDS[i]}"
    if ((skip)); then skip=0; continue; fi
    if [[ $w == -- ]]; then
      # The server's command line: a command first, then files.
      if ((i == COMP_CWORD - 1)); then
        mapfile -t COMPREPLY < <(compgen -c -- "$cur")
      else
        mapfile -t COMPREPLY < <(compgen -f -- "$cur")
      fi
      return 0
    fi
    if [[ $w == -* ]]; then
      [[ $w != *=* ]] && _mcptrust_value "$cpath" "$w" >/dev/null && skip=1
      continue
    fi
    next=$(_mcptrust_child "$cpath" "$w") && cpath=$next
  done
  if [[ $prev == -* && $prev != *=* ]] && spec=$(_mcptrust_value "$cpath" "$prev"); then
    case $spec in
      @file) mapfile -t COMPREPLY < <(compgen -f -- "$cur") ;;
      @any) ;;
      *) mapfile -t COMPREPLY < <(compgen -W "$spec" -- "$cur") ;;
    esac
    return 0
  fi
  if [[ $cur == -* ]]; then
    mapfile -t COMPREPLY < <(compgen -W "$(_mcptrust_opts "$cpath" | _mcptrust_words)" -- "$cur")
    return 0
  fi
  mapfile -t COMPREPLY < <(compgen -W "$(_mcptrust_subs "$cpath" | _mcptrust_words)" -- "$cur")
  return 0
}
complete -o default -o bashdefault -F _mcptrust mcptrust
`;
}

function zsh(t: Tables): string {
  return `#compdef mcptrust
# zsh completion for mcptrust (generated by \`mcptrust completion zsh\`; do not edit).
# Load it: source <(mcptrust completion zsh) after compinit, or save it as _mcptrust in a directory
# on $fpath.
${posixHelpers(t)}
_mcptrust() {
  local cur=\${words[CURRENT]} prev=\${words[CURRENT-1]} cpath="" w next spec
  local -i i skip=0
  local -a items
  for ((i = 2; i < CURRENT; i++)); do
    w=\${words[i]}
    if ((skip)); then skip=0; continue; fi
    if [[ $w == -- ]]; then
      if ((i == CURRENT - 1)); then _command_names -e; else _files; fi
      return
    fi
    if [[ $w == -* ]]; then
      [[ $w != *=* ]] && _mcptrust_value "$cpath" "$w" >/dev/null && skip=1
      continue
    fi
    next=$(_mcptrust_child "$cpath" "$w") && cpath=$next
  done
  if [[ $prev == -* && $prev != *=* ]] && spec=$(_mcptrust_value "$cpath" "$prev"); then
    case $spec in
      @file) _files ;;
      @any) _message -e value 'value' ;;
      *) compadd -- \${=spec} ;;
    esac
    return
  fi
  if [[ $cur == -* ]]; then
    items=("\${(@f)$(_mcptrust_opts "$cpath")}")
    _describe -t options 'option' items
    return
  fi
  items=("\${(@f)$(_mcptrust_subs "$cpath")}")
  if (( \${#items} )) && [[ -n \${items[1]} ]]; then
    _describe -t commands 'command' items
  else
    _files
  fi
}
if [[ \${zsh_eval_context[-1]} == loadautofunc ]]; then
  _mcptrust "$@"
else
  compdef _mcptrust mcptrust
fi
`;
}

function fish(t: Tables): string {
  const sw = (m: Map<string, [string, string][]>) =>
    [...m].map(([path, items]) =>
      `        case ${fq(path)}\n            printf '%s\\n' ${
        items.map(([n, d]) => fq(`${n}\t${d}`)).join(" ")
      }`
    ).join("\n");
  return `# fish completion for mcptrust (generated by \`mcptrust completion fish\`; do not edit).
# Load it: mcptrust completion fish | source, or save it as ~/.config/fish/completions/mcptrust.fish.
function __mcptrust_subs
    switch "$argv[1]"
${sw(t.subs)}
    end
end
function __mcptrust_opts
    switch "$argv[1]"
${sw(t.opts)}
    end
end
function __mcptrust_child
    switch "$argv[1]|$argv[2]"
${t.children.map(([p, n, c]) => `        case ${fq(`${p}|${n}`)}\n            echo ${fq(c)}`).join("\n")}
        case 'help|*'
            echo help
        case '*'
            return 1
    end
end
function __mcptrust_value
    switch "$argv[1]|$argv[2]"
${t.values.map(([p, f, s]) => `        case ${fq(`${p}|${f}`)}\n            echo ${fq(s)}`).join("\n")}
        case '*'
            return 1
    end
end
function __mcptrust_complete
    set -l tokens (commandline -opc)
    set -e tokens[1]
    set -l cur (commandline -ct)
    set -l cpath ''
    set -l skip 0
    set -l n (count $tokens)
    for i in (seq 1 $n)
        set -l w $tokens[$i]
        if test $skip = 1
            set skip 0
            continue
        end
        if test "$w" = '--'
            if test $i = $n
                __fish_complete_command $cur
            else
                __fish_complete_path $cur
            end
            return
        end
        if string match -q -- '-*' $w
            if not string match -q -- '*=*' $w; and __mcptrust_value "$cpath" $w >/dev/null
                set skip 1
            end
            continue
        end
        set -l next (__mcptrust_child "$cpath" $w); and set cpath $next
    end
    if test $n -gt 0; and string match -q -- '-*' $tokens[-1]; and not string match -q -- '*=*' $tokens[-1]
        set -l spec (__mcptrust_value "$cpath" $tokens[-1])
        if test $status = 0
            switch $spec
                case '@file'
                    __fish_complete_path $cur
                case '@any'
                case '*'
                    string split ' ' -- $spec
            end
            return
        end
    end
    if string match -q -- '-*' $cur
        __mcptrust_opts "$cpath"
        return
    end
    set -l subs (__mcptrust_subs "$cpath")
    if test (count $subs) -gt 0
        printf '%s\\n' $subs
    else
        __fish_complete_path $cur
    end
end
complete -c mcptrust -e
complete -c mcptrust -f -a '(__mcptrust_complete)'
`;
}

/** The completion script for `shell`, from the CLI model's root. */
export function completionScript(shell: Shell, root: CliCommand): string {
  const t = tables(root);
  return shell === "bash" ? bash(t) : shell === "zsh" ? zsh(t) : fish(t);
}
