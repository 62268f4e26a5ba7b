import {
  Kind,
  createSourceEventStream,
  getOperationAST,
  print,
  type DocumentNode,
  type ExecutionArgs,
  type ExecutionResult,
  type SelectionSetNode,
} from "graphql";
import type { CompiledQuery } from "graphql-jit";
import type { GraphQLContext } from "../resolvers/context";
import { NOBODY, type Viewer } from "../services/auth/viewer";
import { execute, withDefaults } from "./engine";
import { CompiledOperations } from "./engine-cache";

const DONE: IteratorReturnResult<undefined> = Object.freeze({ value: undefined, done: true });

/**
 * Subscription fields whose events anyone may see in full (availability is public): their
 * executions are shared across viewers, run as nobody (NOBODY), so a result never holds what only
 * some viewer may read. Any subscriber with the same document, operation name and variables gets
 * the same result object.
 */
export const PUBLIC_SUBSCRIPTIONS: ReadonlySet<string> = new Set(["availabilityChanged"]);

/** Whose result it is: "public" (shared across viewers) or "viewer" (shared per viewer identity). */
export type Sharing = "public" | "viewer";

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
      return `user:${viewer.userId}:${viewer.isAdmin ? "admin" : ""}:${[...viewer.brandRoles]
        .map(([b, r]) => `${b}=${r}`)
        .sort()
        .join(",")}`;
  }
}

export interface SharedSubscribeOptions {
  /** The engine's compile cache (engine.ts; a cache of its own when absent). */
  compiled?: CompiledOperations;
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
  /** Fields shared across viewers (PUBLIC_SUBSCRIPTIONS by default). */
  publicFields?: ReadonlySet<string>;
  /** Called once per execution (not per subscriber): /metrics counts them. */
  onExecution?: (sharing: Sharing) => void;
}

/**
 * graphql-ws's `subscribe`: the subscribe step as graphql-js does it, per subscriber (variables,
 * the root field's `subscribe` with its permission check, its errors); then each event is executed
 * with graphql-jit (each operation compiled once) and the execution is shared: subscribers on this
 * instance with the same operation text, operation name, variables and viewer identity get the same
 * result object for the same event (a thousand board subscribers of one brand: one execution per
 * change instead of a thousand). Results can depend on the viewer (field-level @auth), so the
 * viewer is part of the key and nothing is shared across viewers, except for PUBLIC_SUBSCRIPTIONS
 * (executed as nobody, shared by every viewer). Events are shared by identity:
 * the dispatcher hands every subscriber the same event object. The execution runs with the context
 * of the first subscriber that reaches the event (its request id in logs); errors are masked per
 * subscriber afterwards (onNext).
 */
export function sharedSubscribe({
  compiled = new CompiledOperations(),
  executionContext,
  mayCompile = () => true,
  deadlineMs,
  publicFields = PUBLIC_SUBSCRIPTIONS,
  onExecution = () => undefined,
}: SharedSubscribeOptions) {
  const executions = new WeakMap<object, Map<string, Promise<ExecutionResult>>>(); // event → key → result

  return async function subscribe(args: ExecutionArgs): Promise<AsyncIterableIterator<ExecutionResult> | ExecutionResult> {
    // Per subscriber: variables, the subscribe resolver (permission check), its errors.
    const stream = await createSourceEventStream(args);
    if (!isAsyncIterable(stream)) return stream;
    // Compiled once the subscription is accepted (a refused one costs no compilation).
    const source = args.document.loc?.source.body ?? print(args.document);
    const subscriber = args.contextValue as GraphQLContext;
    const query: CompiledQuery | null = compiled.compile({ ...args, source }, () => mayCompile(subscriber));
    // Already coerced by createSourceEventStream above; defaults filled in as on HTTP.
    const variables = withDefaults(getOperationAST(args.document, args.operationName)?.variableDefinitions, args.variableValues ?? undefined);
    // A public field: one execution per event for every viewer, run as nobody.
    const sharing: Sharing = selectsOnly(args.document, args.operationName, publicFields) ? "public" : "viewer";
    const identity = sharing === "public" ? "public" : viewerIdentity(subscriber.viewer);
    const key = `${identity}\u0000${args.operationName ?? ""}\u0000${JSON.stringify(variables)}\u0000${source}`;
    const run = (event: unknown): Promise<ExecutionResult> => {
      onExecution(sharing);
      const contextValue = executionContext(sharing === "public" ? { ...subscriber, viewer: NOBODY } : subscriber);
      return execute({
        schema: args.schema,
        document: args.document,
        operationName: args.operationName,
        query,
        rootValue: event,
        contextValue,
        variables,
        deadlineMs,
      });
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

/**
 * Whether the operation's root fields (through fragments) are all in `fields`. Anything it cannot
 * follow (an unknown fragment) counts as not public: sharing is then per viewer, as before.
 */
export function selectsOnly(document: DocumentNode, operationName: string | null | undefined, fields: ReadonlySet<string>): boolean {
  const operation = getOperationAST(document, operationName);
  if (!operation || fields.size === 0) return false;
  const fragments = new Map(document.definitions.flatMap((d) => (d.kind === Kind.FRAGMENT_DEFINITION ? [[d.name.value, d.selectionSet] as const] : [])));
  const seen = new Set<string>();
  let any = false;
  const walk = (set: SelectionSetNode): boolean =>
    set.selections.every((s) => {
      if (s.kind === Kind.FIELD) return (any = true) && fields.has(s.name.value);
      if (s.kind === Kind.INLINE_FRAGMENT) return walk(s.selectionSet);
      const fragment = fragments.get(s.name.value);
      if (!fragment || seen.has(s.name.value)) return !!fragment; // a cycle is invalid anyway; validation refused it
      seen.add(s.name.value);
      return walk(fragment);
    });
  return walk(operation.selectionSet) && any;
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
