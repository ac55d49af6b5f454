/**
 * The three versions of the app, each a Node request listener, so the server entry and the tests
 * serve any of them with the same `http.createServer`.
 *
 * @module
 */
import type { RequestListener } from "node:http";
import { ConfigError } from "./domain/config.js";
import type { AppDeps } from "./web/app.js";

/** The frameworks the app runs on; each one only routes, the pages and rules live in `web/`. */
export const FRAMEWORKS = ["express", "fastify", "hono"] as const;

/** One of {@link FRAMEWORKS}. */
export type Framework = (typeof FRAMEWORKS)[number];

/**
 * `APP_FRAMEWORK` (express, fastify or hono; express when unset); anything else is a
 * {@link ConfigError} naming the setting.
 *
 * @example
 * ```ts
 * parseFramework({ APP_FRAMEWORK: "hono" }); // "hono"
 * ```
 */
export function parseFramework(env: NodeJS.ProcessEnv): Framework {
  const raw = env.APP_FRAMEWORK?.trim();
  if (raw === undefined || raw === "") return "express";
  const framework = FRAMEWORKS.find((name) => name === raw.toLowerCase());
  if (!framework)
    throw new ConfigError("APP_FRAMEWORK", `must be one of ${FRAMEWORKS.join(", ")} (got "${raw}")`);
  return framework;
}

/** An app as a Node request listener, and what to call once its server has stopped. */
export interface AppListener {
  listener: RequestListener;
  /** Releases what the framework holds (Fastify's `onClose` hooks); the services stay open. */
  close(): Promise<void>;
}

/**
 * Builds the app on `framework` from the same services. Only the chosen framework is loaded.
 *
 * @example
 * ```ts
 * const { listener } = await createAppListener("fastify", services);
 * http.createServer(listener).listen(5000);
 * ```
 */
export async function createAppListener(framework: Framework, deps: AppDeps): Promise<AppListener> {
  switch (framework) {
    case "express": {
      const { createExpressApp } = await import("./express/app.js");
      return { listener: createExpressApp(deps), close: async () => undefined };
    }
    case "fastify": {
      const { createFastifyApp } = await import("./fastify/app.js");
      const app = await createFastifyApp(deps);
      // Fastify's documented way to serve from a server it did not create (as in serverless).
      return { listener: (req, res) => app.server.emit("request", req, res), close: () => app.close() };
    }
    case "hono": {
      // @hono/node-server's listener, whose own 400s get the app's page and security headers.
      const { createHonoListener } = await import("./hono/listener.js");
      return { listener: createHonoListener(deps), close: async () => undefined };
    }
  }
}
