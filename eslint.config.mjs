// ESLint (flat config): typescript-eslint's recommended rules and no import cycles, over src/ and
// tests/. `npm run lint`; .ci/run runs it right after the build and typecheck.
import { createTypeScriptImportResolver } from "eslint-import-resolver-typescript";
import { importX } from "eslint-plugin-import-x";
import tseslint from "typescript-eslint";

export default tseslint.config(
  {
    ignores: ["dist/**", "node_modules/**", "bench/**", "scripts/**", "src/web/admin/generated.ts", "tests/graphql/generated.ts"],
  },
  {
    files: ["src/**/*.ts", "tests/**/*.ts"],
    extends: [tseslint.configs.recommended],
    plugins: { "import-x": importX },
    settings: {
      // import-x reads the imported files too (to follow cycles): they are TypeScript.
      "import-x/extensions": [".ts", ".mts", ".js", ".mjs"],
      "import-x/parsers": { "@typescript-eslint/parser": [".ts", ".mts"] },
      "import-x/resolver-next": [createTypeScriptImportResolver({ project: ["tsconfig.json", "src/web/tsconfig.json"], noWarnOnMultipleProjects: true })],
    },
    rules: {
      // A runtime cycle means a helper sits in the wrong module (issue #13). The rule skips
      // `import type`; there are no type-only cycles either, keep it so.
      "import-x/no-cycle": "error",
      // A leading underscore marks a parameter or binding that is there on purpose (a resolver's
      // @Arg that only the subscription reads, a property left out of a rest object).
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_", caughtErrorsIgnorePattern: "^_" }],
      // `check.check(...) && check.check(...)`: InputCheck stops at a field's first problem.
      "@typescript-eslint/no-unused-expressions": ["error", { allowShortCircuit: true }],
    },
  },
  {
    // Tests read GraphQL answers and JSON bodies whose shape is the very thing they check:
    // typing every answer would repeat the schema (tests/graphql/generated.ts types the operations
    // that have a document).
    files: ["tests/**/*.ts"],
    rules: { "@typescript-eslint/no-explicit-any": "off" },
  },
);
