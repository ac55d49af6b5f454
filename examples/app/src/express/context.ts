import type { LoginManager } from "login-manager";
import type { Logger } from "pino";
import type { AccountServices } from "../domain/accounts.js";
import type { AppConfig } from "../domain/config.js";
import type { ReauthLimiter } from "../domain/reauth-limiter.js";
import type { User } from "../domain/users.js";
import type { RenderPage } from "./render.js";

/** What every route module of the Express app receives. */
export interface RouteContext {
  services: AccountServices;
  manager: LoginManager<User>;
  logger: Logger;
  config: AppConfig;
  render: RenderPage;
  reauthLimiter: ReauthLimiter;
}
