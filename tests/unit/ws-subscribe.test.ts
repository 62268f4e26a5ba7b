import { GraphQLError, GraphQLInt, GraphQLNonNull, GraphQLObjectType, GraphQLSchema, GraphQLString, parse, type ExecutionResult } from "graphql";
import { describe, expect, it } from "vitest";
import { PUBLIC_SUBSCRIPTIONS, selectsOnly, sharedSubscribe, viewerIdentity, type Sharing } from "../../src/http/ws-subscribe";
import { EventStream, MAX_QUEUED_EVENTS } from "../../src/pubsub/event-stream";
import type { GraphQLContext } from "../../src/resolvers/context";
import type { Viewer } from "../../src/services/auth/viewer";

// A schema of its own: `ticks` streams events to whoever may subscribe; `Tick.secret` depends on the viewer.
function setup() {
  const streams = new Set<EventStream<{ n: number }>>();
  const counts = { subscribed: 0, executions: 0, public: 0, viewer: 0 };
  const Tick = new GraphQLObjectType({
    name: "Tick",
    fields: {
      n: { type: new GraphQLNonNull(GraphQLInt) },
      secret: { type: GraphQLString, resolve: (_t, _a, ctx: GraphQLContext) => (ctx.viewer.kind === "user" && ctx.viewer.isAdmin ? "for admins" : null) },
    },
  });
  const schema = new GraphQLSchema({
    query: new GraphQLObjectType({ name: "Query", fields: { ok: { type: GraphQLString } } }),
    subscription: new GraphQLObjectType({
      name: "Subscription",
      fields: {
        ticks: {
          type: new GraphQLNonNull(Tick),
          args: { from: { type: GraphQLInt } },
          subscribe: (_root, _args, ctx: GraphQLContext) => {
            counts.subscribed++;
            if (ctx.viewer.kind === "none") throw new GraphQLError("Not found", { extensions: { code: "NOT_FOUND" } });
            const s: EventStream<{ n: number }> = new EventStream(() => streams.delete(s));
            streams.add(s);
            return s;
          },
          resolve: (event: { n: number }) => {
            counts.executions++;
            return event;
          },
        },
        // Public (in PUBLIC_SUBSCRIPTIONS): anyone may subscribe, and executions are shared across viewers.
        availabilityChanged: {
          type: new GraphQLNonNull(Tick),
          subscribe: () => {
            counts.subscribed++;
            const s: EventStream<{ n: number }> = new EventStream(() => streams.delete(s));
            streams.add(s);
            return s;
          },
          resolve: (event: { n: number }) => {
            counts.executions++;
            return event;
          },
        },
      },
    }),
  });
  const subscribe = sharedSubscribe({ executionContext: (ctx) => ({ ...ctx }), onExecution: (sharing: Sharing) => counts[sharing]++ });
  const dispatch = (n: number) => {
    const event = Object.freeze({ n });
    for (const s of streams) s.push(event);
  };
  const as = (viewer: Viewer, query = "subscription { ticks { n secret } }", variables?: Record<string, unknown>) =>
    subscribe({ schema, document: parse(query), variableValues: variables, contextValue: { viewer, requestId: "r" } as unknown as GraphQLContext }) as Promise<
      AsyncIterableIterator<ExecutionResult> | ExecutionResult
    >;
  return { streams, counts, dispatch, as };
}

const HOUR = Date.now() + 3_600_000;
const admin: Viewer = { kind: "user", userId: "u1", isAdmin: true, brandRoles: new Map(), expiresAtMs: HOUR };
// Another socket of the same account, opened with another token (another expiry): the same identity.
const sameAdminOtherSocket: Viewer = { kind: "user", userId: "u1", isAdmin: true, brandRoles: new Map(), expiresAtMs: HOUR + 60_000 };
const member: Viewer = { kind: "user", userId: "u2", isAdmin: false, brandRoles: new Map([["b1", "COORGANIZER" as never]]), expiresAtMs: HOUR };

const iterator = (r: AsyncIterableIterator<ExecutionResult> | ExecutionResult) => {
  if (!(Symbol.asyncIterator in r)) throw new Error(`not a stream: ${JSON.stringify(r)}`);
  return r;
};

describe("sharedSubscribe", () => {
  it("executes each event once per operation, variables and viewer, and hands the same result to subscribers that share them", async () => {
    const { counts, dispatch, as } = setup();
    const a = iterator(await as(admin));
    const b = iterator(await as(sameAdminOtherSocket));
    const c = iterator(await as(member));
    const d = iterator(await as(admin, "subscription ($from: Int) { ticks(from: $from) { n secret } }", { from: 1 }));
    expect(counts.subscribed).toBe(4); // the subscribe step (permission check) stays per subscriber

    const next = [a.next(), b.next(), c.next(), d.next()];
    dispatch(1);
    const [ra, rb, rc, rd] = (await Promise.all(next)).map((r) => r.value as ExecutionResult);
    expect(counts.executions).toBe(3); // a and b share; c (another viewer) and d (another operation) do not
    expect(rb).toBe(ra);
    expect(ra).toEqual({ data: { ticks: { n: 1, secret: "for admins" } } });
    expect(rc).toEqual({ data: { ticks: { n: 1, secret: null } } });
    expect(rd).toEqual({ data: { ticks: { n: 1, secret: "for admins" } } });

    // The next event is a new execution; events queue in order for a subscriber that is behind.
    dispatch(2);
    dispatch(3);
    expect(((await a.next()).value as ExecutionResult).data).toEqual({ ticks: { n: 2, secret: "for admins" } });
    expect(((await a.next()).value as ExecutionResult).data).toEqual({ ticks: { n: 3, secret: "for admins" } });
    expect(((await b.next()).value as ExecutionResult).data).toEqual({ ticks: { n: 2, secret: "for admins" } });
    for (const s of [a, b, c, d]) await s.return!();
  });

  it("returns a refused subscription's errors, per subscriber", async () => {
    const { as, streams } = setup();
    const ok = iterator(await as(admin));
    const refused = await as({ kind: "none" });
    expect(Symbol.asyncIterator in refused).toBe(false);
    expect((refused as ExecutionResult).errors?.map((e) => e.extensions?.code)).toEqual(["NOT_FOUND"]);
    expect(streams.size).toBe(1);
    await ok.return!();
  });

  it("ends at once when returned while waiting for an event, and stops listening", async () => {
    const { as, streams } = setup();
    const s = iterator(await as(admin));
    expect(streams.size).toBe(1);
    const pending = s.next();
    await s.return!();
    expect(await pending).toEqual({ value: undefined, done: true });
    expect(streams.size).toBe(0);
    expect(await s.next()).toEqual({ value: undefined, done: true });
  });
});

describe("sharedSubscribe, public fields", () => {
  const PUBLIC = "subscription Avail { availabilityChanged { n secret } }";
  const viewers: Viewer[] = Array.from({ length: 50 }, (_, i) =>
    i % 3 === 0 ? { kind: "none" } : i % 3 === 1 ? { kind: "anonymous", userId: `s${i}`, expiresAtMs: HOUR } : { ...admin, userId: `a${i}` },
  );

  it("executes each event once for 50 subscribers of 50 different viewers, as nobody, and hands all of them the same result", async () => {
    const { counts, dispatch, as } = setup();
    const subs = await Promise.all(viewers.map(async (v) => iterator(await as(v, PUBLIC))));
    for (const n of [1, 2, 3]) {
      const next = subs.map((s) => s.next());
      dispatch(n);
      const results = (await Promise.all(next)).map((r) => r.value as ExecutionResult);
      // Run as nobody: the admins among them do not get `secret` (it would leak to the others).
      expect(results[0]).toEqual({ data: { availabilityChanged: { n, secret: null } } });
      for (const r of results) expect(r).toBe(results[0]);
      expect(counts.executions).toBe(n);
    }
    expect(counts).toMatchObject({ public: 3, viewer: 0 });
    for (const s of subs) await s.return!();
  });

  it("shares per document and variables: another document text is its own execution; viewer-keyed fields are not shared", async () => {
    const { counts, dispatch, as } = setup();
    const subs = [
      iterator(await as(admin, PUBLIC)),
      iterator(await as(member, PUBLIC)),
      iterator(await as(member, "subscription { availabilityChanged { n } }")),
      iterator(await as(admin)),
      iterator(await as(member)),
    ];
    const next = subs.map((s) => s.next());
    dispatch(1);
    await Promise.all(next);
    expect(counts).toMatchObject({ executions: 4, public: 2, viewer: 2 });
    for (const s of subs) await s.return!();
  });

  it("tells a public operation by its root fields, through fragments", () => {
    const only = (q: string) => selectsOnly(parse(q), undefined, PUBLIC_SUBSCRIPTIONS);
    expect(only("subscription { availabilityChanged(brandId: 1) { at } }")).toBe(true);
    expect(only("subscription { ...F } fragment F on Subscription { ... on Subscription { availabilityChanged(brandId: 1) { at } } }")).toBe(true);
    expect(only("subscription { orderStatusChanged(brandId: 1) { at } }")).toBe(false);
    expect(only("subscription { ...Missing }")).toBe(false);
    expect(only("subscription { a: availabilityChanged(brandId: 1) { at } b: orderStatusChanged(brandId: 1) { at } }")).toBe(false);
  });
});

describe("EventStream", () => {
  it("ends a subscriber that falls too far behind with an error, once its queue is dropped", async () => {
    let ended = 0;
    const s = new EventStream<number>(() => ended++);
    for (let i = 0; i <= MAX_QUEUED_EVENTS; i++) s.push(i);
    expect(ended).toBe(1);
    await expect(s.next()).rejects.toThrow(/behind/);
    expect(await s.next()).toEqual({ value: undefined, done: true });
    s.push(1); // ignored
    await s.return();
    expect(ended).toBe(1);
  });

  it("with conflation, keeps only the newest queued event per key, in the place of the first, and never falls behind", async () => {
    let ended = 0;
    const s = new EventStream<{ product: string; available: number }>(
      () => ended++,
      (e) => e.product,
    );
    // 10 × the queue limit of changes to two products while the subscriber reads nothing.
    for (let i = 0; i < 10 * MAX_QUEUED_EVENTS; i++) s.push({ product: i % 2 ? "b" : "a", available: 100_000 - i });
    expect(ended).toBe(0);
    expect(await s.next()).toEqual({ value: { product: "a", available: 100_000 - (10 * MAX_QUEUED_EVENTS - 2) }, done: false });
    expect(await s.next()).toEqual({ value: { product: "b", available: 100_000 - (10 * MAX_QUEUED_EVENTS - 1) }, done: false });
    // A waiting reader gets the next event at once, whatever its key.
    const waiting = s.next();
    s.push({ product: "a", available: 1 });
    expect(await waiting).toEqual({ value: { product: "a", available: 1 }, done: false });
    await s.return();
    expect(ended).toBe(1);
  });
});

describe("viewerIdentity", () => {
  it("tells viewers apart by kind, id and role snapshot", () => {
    const ids = [
      viewerIdentity({ kind: "none" }),
      viewerIdentity({ kind: "anonymous", userId: "u1", expiresAtMs: HOUR }),
      viewerIdentity(admin),
      viewerIdentity({ ...admin, isAdmin: false }),
      viewerIdentity(member),
      viewerIdentity({ ...member, brandRoles: new Map([["b1", "OWNER" as never]]) }),
      viewerIdentity({ kind: "apiKey", keyId: "k1", brandId: "b1" }),
    ];
    expect(new Set(ids).size).toBe(ids.length);
    expect(viewerIdentity(sameAdminOtherSocket)).toBe(viewerIdentity(admin));
  });
});
