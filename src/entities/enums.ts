/** Platform-wide role ladder used by `@auth(requires: Role)`. USER is the customer an object belongs to. */
export enum Role {
  USER = "USER",
  COORGANIZER = "COORGANIZER",
  ORGANIZER = "ORGANIZER",
  OWNER = "OWNER",
  ADMIN = "ADMIN",
}

export enum BrandRole {
  OWNER = "OWNER",
  ORGANIZER = "ORGANIZER",
  COORGANIZER = "COORGANIZER",
}

export enum OrderStatus {
  PENDING = "PENDING",
  PAID = "PAID",
  FULFILLED = "FULFILLED",
  CANCELLED = "CANCELLED",
  EXPIRED = "EXPIRED",
  /** Refunds reached the total (issue #11): seats released, tickets void. */
  REFUNDED = "REFUNDED",
}

export enum PaymentAttemptStatus {
  CREATED = "CREATED",
  PENDING = "PENDING",
  PAID = "PAID",
  FAILED = "FAILED",
  CANCELLED = "CANCELLED",
}

export enum InvoiceKind {
  INVOICE = "INVOICE",
  CREDIT_NOTE = "CREDIT_NOTE",
}
