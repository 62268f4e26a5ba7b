/** Events one subscriber may be behind before its stream is ended (its socket is not draining). */
export const MAX_QUEUED_EVENTS = 1_024;

const DONE: IteratorReturnResult<undefined> = Object.freeze({ value: undefined, done: true });

/**
 * A subscriber's stream of events: `push` from the dispatcher, consumed with `for await`.
 *
 * Hand-written rather than a Repeater (one promise per event instead of half a dozen, with a
 * thousand subscribers per event) but with the property that matters: `return()` — what
 * graphql-ws calls when the client completes or its socket closes — ends the stream at once, even
 * while a `next()` is waiting for an event (an async generator would wait for that event first,
 * and leak the subscription until then). `onEnd` runs exactly once, however the stream ends.
 */
export class EventStream<T> implements AsyncIterableIterator<T> {
  private readonly queue: T[] = [];
  private waiting: { resolve: (r: IteratorResult<T>) => void; reject: (e: unknown) => void } | null = null;
  private failure: unknown = undefined;
  private ended = false;

  /**
   * @param conflate For streams where only the latest event of a kind matters (a product's
   *   availability): events with the same key replace one another while they wait in the queue of
   *   a subscriber that is behind, so it catches up at once, on the newest value, instead of
   *   replaying every step (and is never ended for falling behind on them).
   */
  constructor(
    private readonly onEnd: () => void,
    private readonly conflate?: (event: T) => string,
  ) {}

  get closed(): boolean {
    return this.ended;
  }

  /** Delivers an event (ignored once ended). A subscriber too far behind gets its stream ended with an error. */
  push(event: T): void {
    if (this.ended) return;
    const waiting = this.waiting;
    if (waiting) {
      this.waiting = null;
      waiting.resolve({ value: event, done: false });
    } else if (this.conflate && this.replaceQueued(event, this.conflate)) {
      return;
    } else if (this.queue.length >= MAX_QUEUED_EVENTS) {
      this.fail(new Error(`The subscriber fell more than ${MAX_QUEUED_EVENTS} events behind`));
    } else {
      this.queue.push(event);
    }
  }

  /** Puts `event` in the place of a queued event with the same key; false when there is none. */
  private replaceQueued(event: T, keyOf: (event: T) => string): boolean {
    const key = keyOf(event);
    const i = this.queue.findIndex((queued) => keyOf(queued) === key);
    if (i < 0) return false;
    this.queue[i] = event;
    return true;
  }

  /** Ends the stream with an error: a waiting `next()` (or the next one) rejects with it. */
  fail(error: unknown): void {
    if (this.ended) return;
    this.queue.length = 0;
    const waiting = this.waiting;
    this.finish();
    if (waiting) waiting.reject(error);
    else this.failure = error;
  }

  next(): Promise<IteratorResult<T>> {
    if (this.queue.length) return Promise.resolve({ value: this.queue.shift() as T, done: false });
    if (this.failure !== undefined) {
      const error = this.failure;
      this.failure = undefined;
      return Promise.reject(error);
    }
    if (this.ended) return Promise.resolve(DONE);
    if (this.waiting) return Promise.reject(new Error("EventStream: next() while another next() is pending"));
    return new Promise((resolve, reject) => (this.waiting = { resolve, reject }));
  }

  return(): Promise<IteratorResult<T>> {
    this.queue.length = 0;
    this.failure = undefined;
    const waiting = this.waiting;
    this.finish();
    waiting?.resolve(DONE);
    return Promise.resolve(DONE);
  }

  throw(error?: unknown): Promise<IteratorResult<T>> {
    void this.return();
    return Promise.reject(error);
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  private finish(): void {
    if (this.ended) return;
    this.ended = true;
    this.waiting = null;
    this.onEnd();
  }
}
