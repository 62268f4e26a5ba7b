/** What the read model needs of a pg pool (or client): the read pool of database.ts, or a test's client. */
export interface Sql {
  query<R extends Record<string, any> = Record<string, any>>(text: string, params?: unknown[]): Promise<{ rows: R[] }>;
}
