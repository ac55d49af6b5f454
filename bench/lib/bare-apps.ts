import type { Express } from "express";

/**
 * The body of every bench server's bare route.
 *
 * @example
 * ```ts
 * app.get("/hello", async () => HELLO);
 * ```
 */
export const HELLO = "Hello, World!";

/**
 * An Express 5 app set up as the benches' bare route needs it: no ETag, no X-Powered-By, and
 * `GET /hello` answering {@link HELLO}, mounted first so nothing else runs for it.
 *
 * @example
 * ```ts
 * const app = await expressWithHello();
 * app.get("/protected", authenticate, loginRequired, handler);
 * ```
 */
export async function expressWithHello(): Promise<Express> {
  const { default: express } = await import("express");
  const app = express();
  app.set("etag", false);
  app.set("x-powered-by", false);
  app.get("/hello", (_req, res) => {
    res.send(HELLO);
  });
  return app;
}
