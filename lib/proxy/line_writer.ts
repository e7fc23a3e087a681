/**
 * A line writer for the proxy's two directions: lines written in the same tick are joined into one
 * write, so a burst of pipelined messages costs one syscall instead of one per message.
 *
 * @module
 */

/**
 * Returns a function that queues one line (with its newline) and writes the tick's lines at once.
 *
 * @param write writes the joined text; returns false when the sink is over its buffer (backpressure)
 * @param onBlocked called after a write that returned false (e.g. to pause the other side's reader)
 *
 * @example
 * const toHost = lineWriter((d) => process.stdout.write(d));
 * toHost('{"jsonrpc":"2.0","id":1,"result":{}}\n');
 */
export function lineWriter(
  write: (data: string) => boolean | unknown,
  onBlocked: () => void = () => {},
): (line: string) => void {
  let buf: string[] = [];
  let scheduled = false;
  const flush = () => {
    scheduled = false;
    const data = buf.length === 1 ? buf[0] : buf.join("");
    buf = [];
    if (write(data) === false) onBlocked();
  };
  return (line) => {
    buf.push(line);
    if (!scheduled) {
      scheduled = true;
      queueMicrotask(flush);
    }
  };
}
