/** What the read model needs of a pg pool (or client): the read pool of database.ts, or a test's client. */
export interface Sql {
  // Rows of hand-written SQL: the caller names their shape (R); `any` is the default of pg itself.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  query<R extends Record<string, any> = Record<string, any>>(text: string, params?: unknown[]): Promise<{ rows: R[] }>;
}
