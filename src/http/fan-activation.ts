import type { MikroORM } from "@mikro-orm/postgresql";
import { Router } from "express";
import { logger } from "../logger";
import { activateFan } from "../services/loyalty/fans";
import { page } from "./html";
import { requestIdOf } from "./request-id";

const ANSWERS = {
  activated: { status: 200, title: "Email confirmed", text: "Thank you! Your email is confirmed and your coupon is on its way to your inbox." },
  invalid: { status: 404, title: "Link not valid", text: "This confirmation link is not valid. Please use the link from the email exactly as it was sent." },
  used: { status: 410, title: "Link already used", text: "This confirmation link has already been used. Your coupon was sent when it was first followed." },
  expired: { status: 410, title: "Link expired", text: "This confirmation link has expired. Please sign up again to get a new one." },
} as const;

/** `GET /fans/:token`: the link in the verification email; a small page for each outcome. */
export function fanActivationRouter(orm: MikroORM): Router {
  const router = Router();
  router.get("/fans/:token", async (req, res) => {
    try {
      const a = ANSWERS[await activateFan(orm.em.fork(), req.params.token)];
      res
        .status(a.status)
        .setHeader("Cache-Control", "no-store")
        .type("html")
        .send(page(a.title, `<h1>${a.title}</h1><p>${a.text}</p>`));
    } catch (err) {
      const requestId = requestIdOf(req, res);
      logger().error({ err, requestId }, "fan activation failed");
      res
        .status(500)
        .type("html")
        .send(page("Something went wrong", `<h1>Something went wrong</h1><p>Please try again later (reference ${requestId}).</p>`));
    }
  });
  return router;
}
