import { createRequire } from "node:module";
import { dirname } from "node:path";
import { defineConfig } from "vitest/config";

const require = createRequire(import.meta.url);

export default defineConfig({
  resolve: {
    // One copy of graphql for the app code, the tests and CommonJS dependencies: without the alias,
    // ESM imports load graphql's .mjs build beside the .js one that require() loads, and graphql
    // refuses types made by the other copy ("Cannot use GraphQLSchema ... from another module or realm").
    alias: [
      { find: /^graphql$/, replacement: require.resolve("graphql") },
      // graphql-query-complexity's ESM build imports graphql's .mjs files by name.
      { find: /^graphql\/(.+)\.mjs$/, replacement: `${dirname(require.resolve("graphql"))}/$1.js` },
    ],
  },
  test: {
    include: ["tests/**/*.test.ts"],
    globalSetup: ["tests/helpers/global-setup.ts"],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: "forks",
    // Loaded by vitest (not Node's ESM loader) so its `import "graphql"` gets the alias above.
    server: { deps: { inline: ["graphql-query-complexity"] } },
  },
});
