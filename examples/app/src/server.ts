/**
 * Entry point of the reference app: `npm start` (or `node examples/app/dist/server.js`).
 * Reads the settings from the environment, opens the database, serves the app and shuts down
 * cleanly on SIGTERM / SIGINT.
 *
 * @module
 */
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { relative } from "node:path";
import { ConfigError, parseConfig } from "./domain/config.js";
import { createExpressApp } from "./express/app.js";
import { type AppServices, createServices } from "./services.js";

const SHUTDOWN_GRACE_MS = 5000;

/**
 * Starts the app: config, database, session store, login manager, Express, listen. Resolves once it
 * listens, with a function that stops it (server first, then the database).
 *
 * @example
 * ```ts
 * const { url, stop } = await start(process.env);
 * ```
 */
async function start(env: NodeJS.ProcessEnv): Promise<{ url: string; stop: () => Promise<void> }> {
  const config = parseConfig(env);
  const services = await createServices(config);
  if (services.secret.source !== "env") {
    const shown = relative(process.cwd(), services.secret.path);
    const where = shown.startsWith("..") || shown === "" ? services.secret.path : shown;
    console.warn(
      `warning: SECRET_KEY is not set; using the ${services.secret.source === "generated" ? "newly generated" : "stored"} key in ${where} (keep it private, or set SECRET_KEY)`,
    );
  }
  const server = await listen(createExpressApp(services), config.host, config.port, services);
  const { port } = server.address() as AddressInfo;
  const host = config.host.includes(":") ? `[${config.host}]` : config.host;
  return { url: `http://${host}:${port}`, stop: () => stop(server, services) };
}

function listen(
  app: ReturnType<typeof createExpressApp>,
  host: string,
  port: number,
  services: AppServices,
): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = app.listen(port, host, (error?: Error) => {
      if (error) {
        void services.close().finally(() => reject(error));
        return;
      }
      resolve(server);
    });
  });
}

async function stop(server: Server, services: AppServices): Promise<void> {
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  server.closeIdleConnections();
  const timer = setTimeout(() => server.closeAllConnections(), SHUTDOWN_GRACE_MS);
  timer.unref();
  await closed;
  clearTimeout(timer);
  await services.close();
  services.logger.flush();
}

async function main(): Promise<void> {
  let running: Awaited<ReturnType<typeof start>>;
  try {
    running = await start(process.env);
  } catch (error) {
    const message =
      error instanceof ConfigError
        ? `Configuration error: ${error.message}`
        : `Could not start: ${error instanceof Error ? error.message : String(error)}`;
    console.error(message);
    process.exitCode = 1;
    return;
  }
  console.log(`login-manager example app listening on ${running.url}`);
  let stopping = false;
  const shutdown = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    console.log(`${signal} received, shutting down`);
    running.stop().then(
      () => console.log("stopped cleanly"),
      (error: unknown) => {
        console.error(`shutdown failed: ${error instanceof Error ? error.message : String(error)}`);
        process.exitCode = 1;
      },
    );
  };
  process.once("SIGTERM", shutdown);
  process.once("SIGINT", shutdown);
}

await main();
