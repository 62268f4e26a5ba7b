import { GraphQLError, isObjectType, type ExecutionResult, type GraphQLFieldResolver, type GraphQLSchema } from "graphql";
import { MapperKind, mapSchema } from "@graphql-tools/utils";

/**
 * One execution's deadline (REQUEST_TIMEOUT_MS), in its context. Once it has passed, resolvers
 * that have not started yet do not run: they fail with TIMEOUT (see withDeadlineChecks), so an
 * execution nobody waits for any more stops at its next field instead of running to the end.
 */
export interface Deadline {
  expired: boolean;
}

export const timeoutError = (ms: number) =>
  new GraphQLError(`The request took longer than ${ms} ms and was stopped; a change it made before then may have completed, check before retrying`, {
    extensions: { code: "TIMEOUT" },
  });

/**
 * Wraps every field that has a resolver (root fields, field resolvers, @auth checks; plain property
 * reads have none and cost nothing) with a check of the context's deadline. One property read per
 * resolved field; a context without a deadline (scripts, tests) runs as before.
 */
export function withDeadlineChecks(schema: GraphQLSchema): GraphQLSchema {
  return mapSchema(schema, {
    [MapperKind.OBJECT_FIELD]: (field, _name, typeName) => {
      const resolve = field.resolve;
      if (!resolve || typeName.startsWith("__") || !isObjectType(schema.getType(typeName))) return field;
      const checked: GraphQLFieldResolver<unknown, { deadline?: Deadline & { ms: number } }> = (source, args, ctx, info) => {
        if (ctx?.deadline?.expired) throw timeoutError(ctx.deadline.ms);
        return resolve(source, args, ctx, info);
      };
      return { ...field, resolve: checked };
    },
  });
}

/**
 * Runs an execution under a deadline: after `ms` the deadline in its context expires (the rest of
 * its resolvers do not run) and the caller gets a TIMEOUT result at once. When the execution ends
 * later, the log says how many fields were stopped (the operator sees what the deadline saved).
 */
export async function underDeadline(
  context: { deadline?: Deadline & { ms: number }; log?: { warn(obj: object, msg: string): void } },
  ms: number,
  execute: () => ExecutionResult | Promise<ExecutionResult>,
  onTimeout: () => void = () => undefined,
): Promise<ExecutionResult> {
  const deadline = { expired: false, ms };
  context.deadline = deadline;
  const result = execute();
  if (!(result instanceof Promise)) return result;
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<ExecutionResult>((resolve) => {
    timer = setTimeout(() => {
      deadline.expired = true;
      onTimeout();
      void result.then(
        (late) => {
          // graphql-jit may report a resolver's error as its own object, with ours as originalError.
          const isTimeout = (e: GraphQLError) => (e.extensions?.code ?? (e.originalError as GraphQLError | undefined)?.extensions?.code) === "TIMEOUT";
          const stopped = late.errors?.filter(isTimeout).length ?? 0;
          context.log?.warn({ deadlineMs: ms, stoppedFields: stopped }, "execution ended after its deadline");
        },
        () => undefined,
      );
      // An execution result (a request error without data would become HTTP 400).
      resolve({ data: null, errors: [timeoutError(ms)] });
    }, ms);
  });
  try {
    return await Promise.race([result, timedOut]);
  } finally {
    clearTimeout(timer);
  }
}
