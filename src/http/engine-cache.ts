import type { DocumentNode, GraphQLError, GraphQLSchema, ValidationRule } from "graphql";
import { compileQuery, isCompiledQuery, type CompiledQuery } from "graphql-jit";
import { limitedParse, limitedValidate } from "./limits";

/**
 * The engine's two caches (engine.ts), one class with one set of caps for both transports: a
 * client sending a thousand distinct documents makes them drop their least recently used entries,
 * never grow past the caps (tests/api/engine-caches.test.ts; sizes at /metrics).
 */

/** Distinct operations kept compiled per cache (least recently used dropped). */
export const MAX_COMPILED = 1_000;
/**
 * ... and at most this much document text: a compiled document keeps ~30 times its text in memory
 * (7 KB for the board's, 210 KB for 15 aliases of a whole order: bench/jit-compile.cjs), so 1,000
 * of the largest would hold 200 MB; this bounds it to ~15 MB.
 */
export const MAX_COMPILED_CHARS = 512 * 1024;

/** Parsed and validated documents kept per cache, and at most this much of their text. */
export const MAX_DOCUMENTS = 1_000;
export const MAX_DOCUMENT_CHARS = 1024 * 1024;

/** A map that drops its least recently used entries past `maxEntries` entries or `maxWeight` in total. */
export class Lru<V> {
  private readonly entries = new Map<string, { value: V; weight: number }>();
  private total = 0;

  constructor(private readonly limits: { maxEntries: number; maxWeight: number }) {}

  get size(): number {
    return this.entries.size;
  }

  /** The sum of the entries' weights. */
  get weight(): number {
    return this.total;
  }

  get(key: string): V | undefined {
    const known = this.entries.get(key);
    if (!known) return undefined;
    this.entries.delete(key); // refresh its place in the LRU order
    this.entries.set(key, known);
    return known.value;
  }

  set(key: string, value: V, weight: number): void {
    const known = this.entries.get(key);
    if (known) this.total -= known.weight;
    this.entries.delete(key);
    this.entries.set(key, { value, weight });
    this.total += weight;
    while (this.entries.size > this.limits.maxEntries || this.total > this.limits.maxWeight) {
      const [oldest, entry] = this.entries.entries().next().value!;
      this.entries.delete(oldest);
      this.total -= entry.weight;
    }
  }
}

export interface OperationToCompile {
  schema: GraphQLSchema;
  document: DocumentNode;
  operationName?: string | null;
}

/** How full a cache is: entries and the characters of document text they stand for. */
export interface CacheSize {
  entries: number;
  chars: number;
}

/**
 * graphql-jit's compiled operations, least recently used dropped past `maxOperations` entries or
 * `maxChars` of weight. An operation graphql-jit cannot compile is kept as null: graphql-js
 * executes it (engine.ts's `execute`).
 */
export class CompiledOperations {
  private readonly cache: Lru<CompiledQuery | null>;

  constructor({ maxOperations, maxChars }: { maxOperations: number; maxChars: number } = { maxOperations: MAX_COMPILED, maxChars: MAX_COMPILED_CHARS }) {
    this.cache = new Lru({ maxEntries: maxOperations, maxWeight: maxChars });
  }

  get size(): number {
    return this.cache.size;
  }

  get usage(): CacheSize {
    return { entries: this.cache.size, chars: this.cache.weight };
  }

  /** The operation compiled, keyed and weighed by its name and document text (how both transports ask). */
  compile(operation: OperationToCompile & { source: string }, mayCompile?: () => boolean): CompiledQuery | null {
    const key = `${operation.operationName ?? ""}\u0000${operation.source}`;
    return this.get(key, key.length, operation, mayCompile);
  }

  /**
   * The operation compiled, from the cache or compiled now and kept. When `mayCompile` says no (a
   * budget), null and nothing is kept; a compiler that throws gives null too (nothing kept).
   */
  get(key: string, weight: number, operation: OperationToCompile, mayCompile: () => boolean = () => true): CompiledQuery | null {
    const known = this.cache.get(key);
    if (known !== undefined) return known;
    if (!mayCompile()) return null; // over budget: graphql-js, nothing kept
    let query: CompiledQuery | null;
    try {
      const result = compileQuery(operation.schema, operation.document, operation.operationName ?? undefined);
      query = isCompiledQuery(result) ? result : null;
    } catch {
      return null; // graphql-js executes it
    }
    this.cache.set(key, query, weight);
    return query;
  }
}

export interface ValidatedDocument {
  document: DocumentNode;
  /** Validation errors; none: valid. */
  errors: readonly GraphQLError[];
}

/**
 * Documents parsed (limits.ts's token limit) and validated (graphql's rules and ours) once per
 * text: clients send the same few documents again and again, and the cost check's cache
 * (limits.ts, per parsed document) then hits too. Parse errors are not kept.
 */
export class ValidatedDocuments {
  private readonly cache: Lru<ValidatedDocument>;
  private readonly validateDocument: (schema: GraphQLSchema, document: DocumentNode) => readonly GraphQLError[];

  constructor(
    private readonly schema: GraphQLSchema,
    rules: ValidationRule[],
    limits = { maxEntries: MAX_DOCUMENTS, maxWeight: MAX_DOCUMENT_CHARS },
  ) {
    this.cache = new Lru(limits);
    this.validateDocument = limitedValidate(rules);
  }

  get usage(): CacheSize {
    return { entries: this.cache.size, chars: this.cache.weight };
  }

  /** The document and its validation errors (none: valid). Throws the parse error, as graphql's `parse`. */
  get(source: string): ValidatedDocument {
    let entry = this.cache.get(source);
    if (!entry) {
      const document = limitedParse(source);
      entry = { document, errors: this.validateDocument(this.schema, document) };
      this.cache.set(source, entry, source.length);
    }
    return entry;
  }
}
