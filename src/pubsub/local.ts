import { createPubSub } from "@graphql-yoga/subscription";

/**
 * The in-process pub/sub type-graphql subscriptions listen on. Issue #5 feeds it from PostgreSQL
 * LISTEN/NOTIFY so events published after commit on any instance reach local subscribers.
 */
export const pubSub = createPubSub();
