/**
 * One task per turn of the event loop. The service answers a phone's message synchronously
 * (parse, decide, one store transaction with its fsync): a few milliseconds each. But when 50
 * phones start together, the poll phase of one turn delivers dozens of complete requests, and
 * handled as they arrive they would keep the loop from timers, other sockets and the UI for
 * hundreds of milliseconds. Queued here instead, they run in arrival order, one per turn, so the
 * loop is never held for longer than the longest single task; between two tasks it polls again.
 */
export class TurnQueue {
  private readonly tasks: Array<() => void> = [];
  private scheduled = false;

  constructor(private readonly onError: (e: unknown) => void = () => {}) {}

  /** Tasks waiting for their turn. */
  get length(): number {
    return this.tasks.length;
  }

  /** Runs `task` in a later turn, after every task queued before it. */
  push(task: () => void): void {
    this.tasks.push(task);
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(this.next);
    }
  }

  private readonly next = (): void => {
    const task = this.tasks.shift();
    // An immediate queued while the check phase runs waits for the next turn: the loop polls between two tasks.
    if (this.tasks.length > 0) setImmediate(this.next);
    else this.scheduled = false;
    try {
      task?.();
    } catch (e) {
      this.onError(e);
    }
  };
}
