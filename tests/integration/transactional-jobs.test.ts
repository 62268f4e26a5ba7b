import "reflect-metadata";
import { MikroORM } from "@mikro-orm/postgresql";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { ormOptions } from "../../src/db/orm";
import { EmailKind, Order } from "../../src/entities";
import { queueEmail } from "../../src/email/queue";
import { count, uniqueEmail } from "../helpers/api";
import { anonymous, brandWithProducts, placeOrder } from "../helpers/fixtures";

let orm: MikroORM;
let orderId: string;
beforeAll(async () => {
  orm = await MikroORM.init(ormOptions(inject("databaseUrl"), { pool: { min: 0, max: 2 } }));
  const brand = await brandWithProducts();
  orderId = (await placeOrder(brand, (await anonymous()).token)).id;
});
afterAll(async () => orm?.close());

const jobsFor = (emailId: string) => count("select 1 from graphile_worker._private_jobs where payload->>'emailId' = $1", [emailId]);

describe("jobs enqueued with a change", () => {
  it("leave no email row and no job when the change rolls back", async () => {
    const recipient = uniqueEmail("never");
    let emailId = "";
    await expect(
      orm.em.fork().transactional(async (tx) => {
        const order = await tx.findOneOrFail(Order, orderId);
        emailId = (await queueEmail(tx, { order }, EmailKind.ORDER_READY, recipient)).id;
        throw new Error("the change fails after queueing");
      }),
    ).rejects.toThrow("the change fails after queueing");
    expect(emailId).not.toBe("");
    expect(await count("select 1 from email where recipient = $1", [recipient])).toBe(0);
    expect(await jobsFor(emailId)).toBe(0);
  });

  it("are committed together with the change (the email row and its job exist, or were already sent)", async () => {
    const recipient = uniqueEmail("committed");
    const email = await orm.em
      .fork()
      .transactional(async (tx) => queueEmail(tx, { order: await tx.findOneOrFail(Order, orderId) }, EmailKind.ORDER_READY, recipient));
    expect(await count("select 1 from email where id = $1", [email.id])).toBe(1);
    // The worker may already have taken the job; then the email is no longer QUEUED.
    const queuedOrDone = await count(
      "select 1 from email e where e.id = $1::uuid and (e.status <> 'QUEUED' or exists (select 1 from graphile_worker._private_jobs j where j.payload->>'emailId' = $1::text))",
      [email.id],
    );
    expect(queuedOrDone).toBe(1);
  });
});
