/** `npm run schema`: writes src/schema/schema.graphql (with directive usages). `--check` fails on drift. */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { printAppSchema } from "../schema/build";

async function main() {
  const file = join(__dirname, "..", "..", "src", "schema", "schema.graphql");
  const sdl = await printAppSchema();
  if (process.argv.includes("--check")) {
    let current = "";
    try {
      current = readFileSync(file, "utf8");
    } catch {}
    if (current !== sdl) {
      console.error("src/schema/schema.graphql is stale: run `npm run schema` and commit it.");
      process.exit(1);
    }
    console.log("src/schema/schema.graphql is up to date.");
    return;
  }
  writeFileSync(file, sdl);
  console.log(`Wrote ${file}`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
