import type { MigrationObject } from "@mikro-orm/core";
import { Migration20261121203400 } from "./Migration20261121203400";
import { Migration20261121205635 } from "./Migration20261121205635";
import { Migration20261121210926 } from "./Migration20261121210926";
import { Migration20261121232000 } from "./Migration20261121232000";
import { Migration20261122022234 } from "./Migration20261122022234";
import { Migration20261122022806 } from "./Migration20261122022806";
import { Migration20261205130000 } from "./Migration20261205130000";
import { Migration20261205140000 } from "./Migration20261205140000";
import { Migration20261205150000 } from "./Migration20261205150000";
import { Migration20261205160000 } from "./Migration20261205160000";
import { Migration20261205170000 } from "./Migration20261205170000";
import { Migration20261205180000 } from "./Migration20261205180000";
import { Migration20261205190000 } from "./Migration20261205190000";
import { Migration20261205200000 } from "./Migration20261205200000";
import { Migration20261205210000 } from "./Migration20261205210000";
import { Migration20261205220000 } from "./Migration20261205220000";

/** Every migration, oldest first. `npm run migration:create` appends the new one here. */
export const MIGRATIONS: MigrationObject[] = [
  { name: "Migration20261121203400", class: Migration20261121203400 },
  { name: "Migration20261121205635", class: Migration20261121205635 },
  { name: "Migration20261121210926", class: Migration20261121210926 },
  { name: "Migration20261121232000", class: Migration20261121232000 },
  { name: "Migration20261122022234", class: Migration20261122022234 },
  { name: "Migration20261122022806", class: Migration20261122022806 },
  { name: "Migration20261205130000", class: Migration20261205130000 },
  { name: "Migration20261205140000", class: Migration20261205140000 },
  { name: "Migration20261205150000", class: Migration20261205150000 },
  { name: "Migration20261205160000", class: Migration20261205160000 },
  { name: "Migration20261205170000", class: Migration20261205170000 },
  { name: "Migration20261205180000", class: Migration20261205180000 },
  { name: "Migration20261205190000", class: Migration20261205190000 },
  { name: "Migration20261205200000", class: Migration20261205200000 },
  { name: "Migration20261205210000", class: Migration20261205210000 },
  { name: "Migration20261205220000", class: Migration20261205220000 },
];
