import { GraphQLError, createSourceEventStream, execute, print, type ExecutionArgs, type ExecutionResult } from "graphql";
import { compileQuery, isCompiledQuery, type CompiledQuery } from "graphql-jit";
import type { GraphQLContext } from "../resolvers/context";
import type { Viewer } from "../services/auth/viewer";
import { underDeadline } from "./deadline";

const MAX_COMPILED = 1_000; // distinct subscription operations kept compiled (least recently used dropped)
// ... and at most this much document text: a compiled document keeps ~30 times its text in memory
// (7 KB for the board's, 210 KB for 15 aliases of a whole order: bench/jit-compile.cjs), so 1,000
// of the largest would hold 200 MB; this bounds it to ~15 MB.
const MAX_COMPILED_CHARS = 512 * 1024;
const DONE: IteratorReturnResult<undefined> = Object.freeze({ value: undefined, done: true });

/**
 * Who a result may be shared with: the viewer's kind and id, and for an account the role snapshot
 * its socket resolved (two sockets of one account that saw different roles do not share).
 */
export function viewerIdentity(viewer: Viewer): string {
  switch (viewer.kind) {
    case "none":
      return "none";
    case "anonymous":
      return `anonymous:${viewer.userId}`;
    case "apiKey":
      return `apiKey:${viewer.keyId}:${viewer.brandId}`;
    case "user":
      return `user:${viewer.userId}:${viewer.isAdmin ? "admin" : ""}:${[...viewer.brandRoles].map(([b, r]) => `${b}=${r}`).sort().join(",")}`;
  }
}

export interface SharedSubscribeOptions {
  /**
   * The context of one execution, made from the context of the subscriber that runs it (a
   * subscription's own context lives as long as its socket, so its caches would go stale).
   */
  executionContext: (subscriber: GraphQLContext) => GraphQLContext;
  /**
   * Whether a document not compiled yet may be compiled for this subscriber (a budget); when not,
   * graphql-js executes it and nothing is kept. Absent: always.
   */
  mayCompile?: (subscriber: GraphQLContext) => boolean;
  /**
   * Each event's execution gets the HTTP request deadline (REQUEST_TIMEOUT_MS): past it the
   * subscribers get a TIMEOUT result for that event and its remaining resolvers do not run.
   */
  deadlineMs?: number;
}

/**
 * graphql-ws's `subscribe`: the subscribe step as graphql-js does it, per subscriber (variables,
 * the root field's `subscribe` with its permission check, its errors); then each event is executed
 * with graphql-jit (each operation compiled once) and the execution is shared: subscribers on this
 * instance with the same operation text, operation name, variables and viewer identity get the same
 * result object for the same event (a thousand board subscribers of one brand: one execution per
 * change instead of a thousand). Results can depend on the viewer (field-level @auth), so the
 * viewer is part of the key and nothing is shared across viewers. Events are shared by identity:
 * the dispatcher hands every subscriber the same event object. The execution runs with the context
 * of the first subscriber that reaches the event (its request id in logs); errors are masked per
 * subscriber afterwards (onNext).
 */
export function sharedSubscribe({ executionContext, mayCompile = () => true, deadlineMs }: SharedSubscribeOptions) {
  const compiled = new Map<string, CompiledQuery | null>(); // null: graphql-jit could not compile it; graphql-js executes
  let compiledChars = 0;
  const executions = new WeakMap<object, Map<string, Promise<ExecutionResult>>>(); // event → key → result

  function compiledFor(args: ExecutionArgs, source: string): CompiledQuery | null {
    const key = `${args.operationName ?? ""}\u0000${source}`;
    let query = compiled.get(key);
    if (query !== undefined) {
      compiled.delete(key); // refresh its place in the LRU order
      compiled.set(key, query);
      return query;
    }
    if (!mayCompile(args.contextValue as GraphQLContext)) return null; // over budget: graphql-js, nothing kept
    const result = compileQuery(args.schema, args.document, args.operationName ?? undefined);
    query = isCompiledQuery(result) ? result : null;
    compiled.set(key, query);
    compiledChars += key.length;
    while (compiled.size > MAX_COMPILED || compiledChars > MAX_COMPILED_CHARS) {
      const oldest = compiled.keys().next().value!;
      compiled.delete(oldest);
      compiledChars -= oldest.length;
    }
    return query;
  }

  return async function subscribe(args: ExecutionArgs): Promise<AsyncIterableIterator<ExecutionResult> | ExecutionResult> {
    // Per subscriber: variables, the subscribe resolver (permission check), its errors.
    const stream = await createSourceEventStream(args);
    if (!isAsyncIterable(stream)) return stream;
    // Compiled once the subscription is accepted (a refused one costs no compilation).
    const source = args.document.loc?.source.body ?? print(args.document);
    let query: CompiledQuery | null;
    try {
      query = compiledFor(args, source);
    } catch {
      query = null; // graphql-js executes it
    }

    const subscriber = args.contextValue as GraphQLContext;
    const variables = args.variableValues ?? {};
    const key = `${viewerIdentity(subscriber.viewer)}\u0000${args.operationName ?? ""}\u0000${JSON.stringify(variables)}\u0000${source}`;
    const run = (event: unknown): Promise<ExecutionResult> => {
      const contextValue = executionContext(subscriber);
      const execution = () => (query ? query.query(event, contextValue, variables) : execute({ ...args, rootValue: event, contextValue }));
      const result = deadlineMs ? underDeadline(contextValue, deadlineMs, execution) : execution();
      return Promise.resolve(result).then(withGraphQLErrors);
    };
    const resultFor = (event: unknown): Promise<ExecutionResult> => {
      if (event === null || typeof event !== "object") return run(event);
      let byKey = executions.get(event);
      if (!byKey) executions.set(event, (byKey = new Map()));
      let result = byKey.get(key);
      if (!result) byKey.set(key, (result = run(event)));
      return result;
    };
    return new MappedStream(stream[Symbol.asyncIterator](), resultFor);
  };
}

function isAsyncIterable(value: unknown): value is AsyncIterable<unknown> {
  return typeof (value as AsyncIterable<unknown> | null)?.[Symbol.asyncIterator] === "function";
}

/**
 * The source stream mapped to results. `return()` (the client completed or went away) ends it at
 * once: a pending `next()` resolves as done without waiting for the source or an execution, and the
 * source is ended too.
 */
class MappedStream<T, R> implements AsyncIterableIterator<R> {
  private ended = false;
  private pending: ((r: IteratorResult<R>) => void) | null = null;

  constructor(
    private readonly source: AsyncIterator<T>,
    private readonly map: (value: T) => Promise<R>,
  ) {}

  next(): Promise<IteratorResult<R>> {
    if (this.ended) return Promise.resolve(DONE);
    return new Promise<IteratorResult<R>>((resolve, reject) => {
      this.pending = resolve;
      const settle = (r: IteratorResult<R> | null, error?: unknown) => {
        if (this.pending !== resolve) return; // returned meanwhile (already resolved as done)
        this.pending = null;
        if (r) resolve(r);
        else reject(error);
      };
      this.source.next().then(
        (item) => {
          if (this.pending !== resolve) return;
          if (item.done) {
            this.ended = true;
            settle(DONE);
            return;
          }
          let mapped: Promise<R>;
          try {
            mapped = this.map(item.value);
          } catch (error) {
            settle(null, error);
            return;
          }
          mapped.then(
            (value) => settle({ value, done: false }),
            (error) => settle(null, error),
          );
        },
        (error) => {
          this.ended = true;
          settle(null, error);
        },
      );
    });
  }

  async return(): Promise<IteratorResult<R>> {
    if (!this.ended) {
      this.ended = true;
      const pending = this.pending;
      this.pending = null;
      pending?.(DONE);
      await this.source.return?.();
    }
    return DONE;
  }

  async throw(error?: unknown): Promise<IteratorResult<R>> {
    await this.return();
    throw error;
  }

  [Symbol.asyncIterator](): this {
    return this;
  }
}

/**
 * graphql-jit reports a resolver's unexpected error (a database error, a bug) as its own error
 * object without `extensions`; such errors become graphql-js GraphQLErrors (same message, path,
 * locations, original error) as in the HTTP executor, so masking treats them alike.
 */
function withGraphQLErrors(result: ExecutionResult): ExecutionResult {
  if (!result.errors?.some((e) => e.extensions === undefined)) return result;
  const errors = result.errors.map((e) => {
    if (e.extensions !== undefined) return e;
    const error = new GraphQLError(e.message, { path: e.path, originalError: e.originalError ?? e });
    (error as { locations?: unknown }).locations = e.locations;
    return error;
  });
  return { ...result, errors };
}
