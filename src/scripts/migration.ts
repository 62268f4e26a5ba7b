/**
 * `npm run migration:create` — diff the entities against the database and write a new migration
 * into src/migrations (then rebuild). `npm run migration:up` — apply pending migrations.
 * Uses DATABASE_URL, or the embedded PostgreSQL under DATA_DIR.
 */
import "reflect-metadata";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { loadConfigOrExit } from "../config/env";
import { openDatabase } from "../db/database";

async function main() {
  const command = process.argv[2];
  if (command !== "create" && command !== "up") {
    console.error("usage: migration.js create [name] | up");
    process.exit(2);
  }
  const db = await openDatabase(loadConfigOrExit());
  const orm = db.orm;
  try {
    if (command === "create") {
      const migrator = orm.getMigrator();
      const result = await migrator.createMigration(join(__dirname, "..", "..", "src", "migrations"), false, false, process.argv[3]);
      if (!result.diff.up.length) {
        console.log("No changes: the database already matches the entities.");
      } else {
        const name = result.fileName.replace(/\.ts$/, "");
        const className = result.code.match(/export class (\w+)/)![1];
        const indexFile = join(__dirname, "..", "..", "src", "migrations", "index.ts");
        let index = readFileSync(indexFile, "utf8");
        index = index.replace(/(\n\/\*\*)/, `import { ${className} } from "./${name}";\n$1`);
        index = index.replace(/\];\s*$/, `  { name: "${name}", class: ${className} },\n];\n`);
        writeFileSync(indexFile, index);
        console.log(`Wrote src/migrations/${result.fileName}; review it, then rebuild.`);
      }
    } else {
      console.log("Migrations are up to date.");
    }
  } finally {
    await db.close();
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
