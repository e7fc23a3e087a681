/**
 * An MCP server as a child process speaking stdio (MCP spec, "Transports: stdio").
 *
 * The argv is spawned exactly as given: no shell, no joining, no re-splitting (the Go tool joins and
 * re-splits, corrupting arguments with spaces; reference §1). stderr is drained continuously so a chatty
 * server never blocks on a full pipe, and its last lines are kept for error messages. Shutdown follows
 * the MCP spec's stdio sequence: close the server's stdin, wait a grace period, SIGTERM, then SIGKILL.
 *
 * @module
 */
import process from "node:process";
import { type ChildProcess, spawn } from "node:child_process";
import { McpTrustError } from "../errors.ts";

/** Options for {@link ServerProcess.start}. */
export interface ServerProcessOptions {
  /** Copy the server's stderr to ours as it arrives (proxy), besides keeping the tail. */
  passStderr?: boolean;
  /** How many trailing stderr lines to keep for error messages. Default 20. */
  stderrLines?: number;
  /** Environment for the child. Default: ours. */
  env?: Record<string, string | undefined>;
  /** Working directory. Default: ours. */
  cwd?: string;
}

/** How the process ended. */
export interface ExitInfo {
  code: number | null;
  signal: string | null;
}

/** A running server process. */
export class ServerProcess {
  readonly argv: readonly string[];
  readonly child: ChildProcess;
  /** Resolves when the process has exited (never rejects). */
  readonly exited: Promise<ExitInfo>;
  #exit: ExitInfo | undefined;
  #stderrTail: string[] = [];
  #stderrPartial = "";
  #maxLines: number;
  #spawnError: Error | undefined;

  private constructor(argv: readonly string[], opts: ServerProcessOptions) {
    this.argv = argv;
    this.#maxLines = opts.stderrLines ?? 20;
    this.child = spawn(argv[0], argv.slice(1), {
      stdio: ["pipe", "pipe", "pipe"],
      env: opts.env as NodeJS.ProcessEnv | undefined,
      cwd: opts.cwd,
      shell: false,
      windowsHide: true,
    });
    this.exited = new Promise((resolve) => {
      this.child.once("error", (err) => {
        this.#spawnError = err;
        // 'exit' may not follow a spawn error.
        if (!this.#exit) {
          this.#exit = { code: null, signal: null };
          resolve(this.#exit);
        }
      });
      this.child.once("exit", (code, signal) => {
        if (!this.#exit) {
          this.#exit = { code, signal };
          resolve(this.#exit);
        }
      });
    });
    this.child.stderr!.on("data", (chunk: Uint8Array) => {
      if (opts.passStderr) process.stderr.write(chunk);
      this.#keepStderr(new TextDecoder().decode(chunk));
    });
    // Writes to a dead child raise EPIPE on the stream; the exit is reported elsewhere.
    this.child.stdin!.on("error", () => {});
  }

  /**
   * Spawns `argv`.
   *
   * @throws {McpTrustError} (exit 2) if argv is empty
   */
  static start(argv: readonly string[], opts: ServerProcessOptions = {}): ServerProcess {
    if (argv.length === 0 || argv[0] === "") {
      throw new McpTrustError("no server command given", {
        hint:
          "put the server's command after `--`, e.g. `mcptrust scan -- npx -y @modelcontextprotocol/server-everything`",
      });
    }
    return new ServerProcess(argv, opts);
  }

  /** The exit status, once exited. */
  get exitInfo(): ExitInfo | undefined {
    return this.#exit;
  }

  /** The spawn error (e.g. ENOENT), if the process could not be started. */
  get spawnError(): Error | undefined {
    return this.#spawnError;
  }

  /** The last stderr lines (at most `stderrLines`). */
  stderrTail(): string[] {
    const tail = [...this.#stderrTail];
    if (this.#stderrPartial.trim() !== "") tail.push(this.#stderrPartial);
    return tail.slice(-this.#maxLines);
  }

  /** A one-line description of why the process is gone, e.g. "exited with code 3". */
  describeExit(): string {
    if (this.#spawnError) {
      const code = (this.#spawnError as NodeJS.ErrnoException).code;
      if (code === "ENOENT") return `could not be started: ${this.argv[0]}: command not found`;
      if (code === "EACCES") return `could not be started: ${this.argv[0]}: permission denied`;
      return `could not be started: ${this.#spawnError.message}`;
    }
    const e = this.#exit;
    if (!e) return "is still running";
    if (e.signal) return `was killed by ${e.signal}`;
    return `exited with code ${e.code}`;
  }

  /** Writes bytes or text to the server's stdin. Returns false if the pipe is closed. */
  write(data: Uint8Array | string): boolean {
    const stdin = this.child.stdin;
    if (!stdin || stdin.destroyed || !stdin.writable) return false;
    return stdin.write(data);
  }

  /**
   * Stops the server: close stdin, wait `graceMs`, SIGTERM, wait `graceMs`, SIGKILL. Resolves with the
   * exit info; never leaves a zombie (the exit is always awaited).
   */
  async stop(graceMs = 2000): Promise<ExitInfo> {
    if (this.#exit) return this.#exit;
    this.child.stdin?.end();
    if (await this.#waitExit(graceMs)) return this.#exit!;
    this.child.kill("SIGTERM");
    if (await this.#waitExit(graceMs)) return this.#exit!;
    this.child.kill("SIGKILL");
    return await this.exited;
  }

  /** Sends a signal to the server (e.g. forwarding our SIGINT). */
  signal(sig: NodeJS.Signals): void {
    if (!this.#exit) this.child.kill(sig);
  }

  async #waitExit(ms: number): Promise<boolean> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<false>((r) => timer = setTimeout(() => r(false), ms));
    const done = await Promise.race([this.exited.then(() => true as const), timeout]);
    clearTimeout(timer);
    return done;
  }

  #keepStderr(text: string): void {
    const lines = (this.#stderrPartial + text).split("\n");
    this.#stderrPartial = lines.pop() ?? "";
    if (this.#stderrPartial.length > 4096) this.#stderrPartial = this.#stderrPartial.slice(0, 4096) + "…";
    for (const l of lines) {
      if (l.trim() === "") continue;
      this.#stderrTail.push(l.length > 500 ? l.slice(0, 500) + "…" : l);
    }
    if (this.#stderrTail.length > this.#maxLines) {
      this.#stderrTail.splice(0, this.#stderrTail.length - this.#maxLines);
    }
  }
}
