import { createPubSub } from "@graphql-yoga/subscription";

/**
 * The pub/sub type-graphql's buildSchema requires. Order events do not travel through it: the
 * LISTEN connection hands them to the streams in order-events.ts (one lookup per brand and order).
 */
export const pubSub = createPubSub();
