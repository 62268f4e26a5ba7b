import { GraphQLInt, GraphQLNonNull, GraphQLObjectType, GraphQLSchema, GraphQLString, parse, type ExecutionResult } from "graphql";
import { EventEmitter } from "node:events";
import type { Socket } from "node:net";
import { describe, expect, it } from "vitest";
import { CompileBudget, SocketsPerAddress } from "../../src/http/ws-limits";
import { sharedSubscribe } from "../../src/http/ws-subscribe";
import { EventStream } from "../../src/pubsub/event-stream";
import type { GraphQLContext } from "../../src/resolvers/context";

describe("sockets per address", () => {
  it("takes at most `max` slots per key and frees one when its TCP connection closes", () => {
    const cap = new SocketsPerAddress(2);
    const tcp = () => new EventEmitter() as unknown as Socket;
    const [a, b] = [tcp(), tcp()];
    expect(cap.take("2001:db8:0:1::/64", a)).toBe(true);
    expect(cap.take("2001:db8:0:1::/64", b)).toBe(true);
    expect(cap.take("2001:db8:0:1::/64", tcp())).toBe(false);
    expect(cap.take("203.0.113.7", tcp())).toBe(true); // another address is not affected
    a.emit("close");
    expect(cap.take("2001:db8:0:1::/64", tcp())).toBe(true);
    expect(cap.take("2001:db8:0:1::/64", tcp())).toBe(false);
  });
});

describe("the graphql-jit compile budget", () => {
  it("allows `perAddress` compiles per address and window, ten times that in all, and renews each window", () => {
    const budget = new CompileBudget(2, 5, 60_000);
    const t = 1_000_000;
    expect([budget.take("a", t), budget.take("a", t), budget.take("a", t)]).toEqual([true, true, false]);
    expect([budget.take("b", t), budget.take("b", t), budget.take("c", t), budget.take("d", t)]).toEqual([true, true, true, false]); // 5 in all
    expect(budget.take("a", t + 60_000)).toBe(true); // a new window
  });

  it("over budget, a new document still executes (graphql-js) and is not kept; a compiled one costs nothing more", async () => {
    const streams = new Set<EventStream<{ n: number }>>();
    const schema = new GraphQLSchema({
      query: new GraphQLObjectType({ name: "Query", fields: { ok: { type: GraphQLString } } }),
      subscription: new GraphQLObjectType({
        name: "Subscription",
        fields: {
          ticks: {
            type: new GraphQLNonNull(new GraphQLObjectType({ name: "Tick", fields: { n: { type: new GraphQLNonNull(GraphQLInt) } } })),
            subscribe: () => {
              const s: EventStream<{ n: number }> = new EventStream(() => streams.delete(s));
              streams.add(s);
              return s;
            },
            resolve: (event: { n: number }) => event,
          },
        },
      }),
    });
    let allowed = 1;
    const asked: string[] = [];
    const subscribe = sharedSubscribe({
      executionContext: (ctx) => ({ ...ctx }),
      mayCompile: (ctx) => {
        asked.push(ctx.requestId);
        return allowed-- > 0;
      },
    });
    const open = async (query: string, requestId: string) =>
      (await subscribe({
        schema,
        document: parse(query),
        contextValue: { viewer: { kind: "none" }, requestId } as unknown as GraphQLContext,
      })) as AsyncIterableIterator<ExecutionResult>;
    const first = await open("subscription { ticks { n } }", "first"); // compiled (budget 1)
    const second = await open("subscription { ticks { a: n } }", "second"); // over budget: graphql-js
    const again = await open("subscription { ticks { n } }", "again"); // already compiled: not asked
    const alsoSecond = await open("subscription { ticks { a: n } }", "second-again"); // not kept: asked again
    expect(asked).toEqual(["first", "second", "second-again"]);
    const results = [first, second, again, alsoSecond].map((it) => it.next());
    for (const s of streams) s.push(Object.freeze({ n: 7 }));
    expect((await Promise.all(results)).map((r) => r.value)).toEqual([
      { data: { ticks: { n: 7 } } },
      { data: { ticks: { a: 7 } } },
      { data: { ticks: { n: 7 } } },
      { data: { ticks: { a: 7 } } },
    ]);
  });
});
