/**
 * Operator command: logs every user out (ASVS 7.4.5), e.g. after a breach or a leaked secret.
 * `npm run revoke-all-sessions` (or `node examples/app/dist/revoke-all-sessions.js`) opens the
 * session store the app is configured with (the same `DATA_DIR`, `DATABASE_URL`, `REDIS_URL`, ...
 * settings), ends every session and remember-me token of every user
 * (`manager.revokeAllSessions()`), writes the `sessions.revoked-all` security log line, prints the
 * counts and exits with 0. Running app instances need no restart: their next request finds no
 * session. Login failure counters are kept, so locked accounts stay locked.
 *
 * Exits with 1 and one line on stderr when a setting is bad, the SQLite database is not where
 * `DATA_DIR` says, or the store cannot be reached.
 *
 * @module
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { type AppConfig, ConfigError, parseConfig } from "./domain/config.js";
import { DATABASE_FILE_NAME } from "./domain/database.js";
import { type AppServices, createServices } from "./services.js";

/**
 * Logs everyone out with the settings in `env`; resolves to the exit code (0, or 1 after printing
 * why on stderr).
 */
async function revokeAllSessions(env: NodeJS.ProcessEnv): Promise<number> {
  let services: AppServices | undefined;
  try {
    const config = parseConfig(env);
    const missing = missingDatabase(config);
    if (missing) return fail(missing);
    services = await createServices(config);
    const { sessions, rememberTokens } = await services.manager.revokeAllSessions();
    console.log(
      `Logged everyone out: ended ${plural(sessions, "session")} and ${plural(rememberTokens, "remember-me token")} (${services.backends.sessions} store).`,
    );
    return 0;
  } catch (error) {
    if (error instanceof ConfigError) return fail(`Configuration error: ${error.message}`);
    const reason = error instanceof Error ? error.message : String(error);
    return fail(
      `Could not log everyone out: the session store did not answer (${reason}). Run this again once it is reachable.`,
    );
  } finally {
    await services?.close().catch(() => undefined);
    services?.logger.flush();
  }
}

/**
 * With sessions in SQLite, a message when `DATA_DIR` holds no database: a wrong `DATA_DIR` would
 * otherwise create an empty one and report that nobody was logged in.
 */
function missingDatabase(config: AppConfig): string | undefined {
  if (config.redis || config.database) return undefined;
  const file = join(config.dataDir, DATABASE_FILE_NAME);
  if (existsSync(file)) return undefined;
  return `No database at ${file}: set DATA_DIR to the app's data folder. Nobody was logged out.`;
}

function fail(message: string): number {
  console.error(message);
  return 1;
}

function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? "" : "s"}`;
}

process.exitCode = await revokeAllSessions(process.env);
