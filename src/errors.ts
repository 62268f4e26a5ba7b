import { GraphQLError } from "graphql";

/** The error codes clients can rely on (`extensions.code`). */
export const ErrorCode = {
  UNAUTHENTICATED: "UNAUTHENTICATED",
  FORBIDDEN: "FORBIDDEN",
  NOT_FOUND: "NOT_FOUND",
  BAD_USER_INPUT: "BAD_USER_INPUT",
  FAILED_PRECONDITION: "FAILED_PRECONDITION",
  RATE_LIMITED: "RATE_LIMITED",
  /** A quota lacks room for an order (extensions.productId, extensions.available). */
  SOLD_OUT: "SOLD_OUT",
  /** The database is unreachable or restarting (HTTP 503 when it happens before any resolver). */
  SERVICE_UNAVAILABLE: "SERVICE_UNAVAILABLE",
  INTERNAL_SERVER_ERROR: "INTERNAL_SERVER_ERROR",
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

/** An expected outcome, reported to the client as is. Anything else is masked. */
export class AppError extends GraphQLError {
  constructor(code: ErrorCode, message: string, extensions: Record<string, unknown> = {}) {
    super(message, { extensions: { code, ...extensions } });
    this.name = "AppError";
  }
}

export const notFound = (what = "Not found") => new AppError(ErrorCode.NOT_FOUND, what);
export const forbidden = (message = "You are not allowed to do this") => new AppError(ErrorCode.FORBIDDEN, message);
export const unauthenticated = (message = "Authentication required") => new AppError(ErrorCode.UNAUTHENTICATED, message);
/** Credentials that were sent but are invalid: the whole request is refused with HTTP 401. */
export const invalidCredentials = (message: string) => new AppError(ErrorCode.UNAUTHENTICATED, message, { http: { status: 401 } });
export const failedPrecondition = (message: string) => new AppError(ErrorCode.FAILED_PRECONDITION, message);
/** `field` is the input path the client sent, e.g. `input.lines[2].quantity`. */
export const badInput = (field: string, message: string) => new AppError(ErrorCode.BAD_USER_INPUT, `${field}: ${message}`, { field });

/**
 * Collects input problems and throws the first one as BAD_USER_INPUT naming its field
 * (all problems are listed in `extensions.problems`).
 */
export class InputCheck {
  private readonly problems: { field: string; message: string }[] = [];
  add(field: string, message: string): this {
    this.problems.push({ field, message });
    return this;
  }
  check(ok: boolean, field: string, message: string): boolean {
    if (!ok) this.add(field, message);
    return ok;
  }
  get ok() {
    return this.problems.length === 0;
  }
  throwIfAny(): void {
    if (this.ok) return;
    const [first] = this.problems;
    throw new AppError(ErrorCode.BAD_USER_INPUT, `${first.field}: ${first.message}`, {
      field: first.field,
      problems: this.problems,
    });
  }
}
