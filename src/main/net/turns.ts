/**
 * One task per turn of the event loop. The service answers a phone's message synchronously
 * (parse, decide, one store transaction with its fsync): a few milliseconds each. But when 50
 * phones start together, the poll phase of one turn delivers dozens of complete requests, and
 * handled as they arrive they would keep the loop from timers, other sockets and the UI for
 * hundreds of milliseconds. Queued here instead, they run one per turn, so the loop is never held
 * for longer than the longest single task; between two tasks it polls again.
 *
 * Two lanes: work on what is already under way (a complete request, contact-me) goes before
 * starting something new (a connection's TLS handshake, pushStart). In a boot storm every phone
 * connection waiting with its handshake done holds OpenSSL's buffers and its request (~50 kB
 * each, issue #14: peak RSS); one still waiting for its handshake holds only a TCP socket, its
 * bytes in the kernel. So connections are finished before more are opened, and the phones' answers
 * come sooner. A new connection is still never starved: after START_EVERY tasks of the first lane
 * passed it, it gets the next turn (a client keeping requests coming on many keep-alive
 * connections cannot lock new phones out).
 */
export class TurnQueue {
  private readonly tasks: Array<() => void> = [];
  private readonly starts: Array<() => void> = [];
  /** Tasks of the first lane run since the oldest start began to wait. */
  private passed = 0;
  private scheduled = false;

  constructor(private readonly onError: (e: unknown) => void = () => {}) {}

  /** Tasks waiting for their turn, both lanes. */
  get length(): number {
    return this.tasks.length + this.starts.length;
  }

  /** Runs `task` in a later turn, after every task queued before it (and before waiting starts). */
  push(task: () => void): void {
    this.tasks.push(task);
    this.schedule();
  }

  /** Starts something new (a connection) in a later turn: when no other task waits, or after START_EVERY did. */
  pushStart(task: () => void): void {
    this.starts.push(task);
    this.schedule();
  }

  private schedule(): void {
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(this.next);
    }
  }

  private take(): (() => void) | undefined {
    if (this.starts.length > 0 && (this.tasks.length === 0 || this.passed >= START_EVERY)) {
      this.passed = 0;
      return this.starts.shift();
    }
    if (this.starts.length > 0) this.passed++;
    return this.tasks.shift();
  }

  private readonly next = (): void => {
    const task = this.take();
    // An immediate queued while the check phase runs waits for the next turn: the loop polls between two tasks.
    if (this.length > 0) setImmediate(this.next);
    else this.scheduled = false;
    try {
      task?.();
    } catch (e) {
      this.onError(e);
    }
  };
}

/** A waiting start runs at the latest after this many tasks of the first lane. */
export const START_EVERY = 4;
