/**
 * Starting and stopping the reference app as a process, whatever its framework: read the settings,
 * open the database, serve the app with Node's HTTP server, shut down cleanly on SIGTERM / SIGINT.
 * The entry points (`server.ts`, `server-fastify.ts`, `server-hono.ts`) only call {@link main}.
 *
 * @module
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { relative } from "node:path";
import { ConfigError, parseConfig } from "./domain/config.js";
import { type AppListener, createAppListener, type Framework, parseFramework } from "./frameworks.js";
import { type AppServices, createServices } from "./services.js";

const SHUTDOWN_GRACE_MS = 5000;

/** A running app: where it listens, and how to stop it. */
export interface RunningApp {
  url: string;
  framework: Framework;
  /** The development outbox's folder, when mail is written there (no `SMTP_URL`). */
  outbox: string | undefined;
  stop(): Promise<void>;
}

/**
 * Starts the app: config, database, session store, login manager, the app on `framework` (else
 * `APP_FRAMEWORK`, else Express), listen. Resolves once it listens, with a function that stops it
 * (server first, then the database).
 *
 * @example
 * ```ts
 * const { url, stop } = await start(process.env, "hono");
 * ```
 */
export async function start(env: NodeJS.ProcessEnv, framework?: Framework): Promise<RunningApp> {
  const config = parseConfig(env);
  const chosen = framework ?? parseFramework(env);
  const services = await createServices(config);
  if (services.secret.source !== "env") {
    const shown = relative(process.cwd(), services.secret.path);
    const where = shown.startsWith("..") || shown === "" ? services.secret.path : shown;
    console.warn(
      `warning: SECRET_KEY is not set; using the ${services.secret.source === "generated" ? "newly generated" : "stored"} key in ${where} (keep it private, or set SECRET_KEY)`,
    );
  }
  let app: AppListener;
  try {
    app = await createAppListener(chosen, services);
  } catch (error) {
    await services.close();
    throw error;
  }
  const server = await listen(createServer(app.listener), config.host, config.port, async () => {
    await app.close();
    await services.close();
  });
  const { port } = server.address() as AddressInfo;
  const host = config.host.includes(":") ? `[${config.host}]` : config.host;
  const url = `http://${host}:${port}`;
  // PORT=0 without APP_BASE_URL: links in mails point at the port just picked.
  if (config.port === 0 && !env.APP_BASE_URL?.trim())
    config.baseUrl = new URL(config.baseUrl.replace(/:0$/, `:${port}`)).origin;
  return { url, framework: chosen, outbox: services.outbox?.dir, stop: () => stop(server, app, services) };
}

function listen(server: Server, host: string, port: number, cleanUp: () => Promise<void>): Promise<Server> {
  return new Promise((resolve, reject) => {
    const failed = (error: Error) => {
      void cleanUp().finally(() => reject(error));
    };
    server.once("error", failed);
    server.listen(port, host, () => {
      server.off("error", failed);
      resolve(server);
    });
  });
}

async function stop(server: Server, app: AppListener, services: AppServices): Promise<void> {
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  server.closeIdleConnections();
  const timer = setTimeout(() => server.closeAllConnections(), SHUTDOWN_GRACE_MS);
  timer.unref();
  await closed;
  clearTimeout(timer);
  await app.close();
  await services.close();
  services.logger.flush();
}

/**
 * Runs the app until SIGTERM or SIGINT; a bad setting prints one line naming it and exits with 1.
 *
 * @example
 * ```ts
 * await main("fastify");
 * ```
 */
export async function main(framework?: Framework): Promise<void> {
  let running: RunningApp;
  try {
    running = await start(process.env, framework);
  } catch (error) {
    const message =
      error instanceof ConfigError
        ? `Configuration error: ${error.message}`
        : `Could not start: ${error instanceof Error ? error.message : String(error)}`;
    console.error(message);
    process.exitCode = 1;
    return;
  }
  console.log(`login-manager example app (${running.framework}) listening on ${running.url}`);
  if (running.outbox) {
    console.log(`no SMTP_URL: mail is written to ${running.outbox} and listed at ${running.url}/dev/outbox`);
  }
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
