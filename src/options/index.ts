/**
 * `login-manager/options`: the named types behind `new LoginManager(options)`, for applications that
 * build their options in pieces (one group per concern) or read `manager.options`. Writing the
 * options inline needs none of them; `LoginManagerOptions` itself comes from `login-manager`.
 *
 * @example
 * ```ts
 * import { LoginManager } from "login-manager";
 * import type { NetworkOptions, SessionOptions } from "login-manager/options";
 * import { DEFAULT_ALLOWED_HOSTS, resolveAllowedHosts } from "login-manager/options";
 *
 * const session: SessionOptions = { idleTimeoutSeconds: 15 * 60, protection: "strong" };
 * const network: NetworkOptions = {
 *   trustProxyHops: 1,
 *   allowedHosts: process.env.ALLOWED_HOSTS ? resolveAllowedHosts(process.env.ALLOWED_HOSTS.split(",")) : DEFAULT_ALLOWED_HOSTS,
 * };
 * const manager = new LoginManager({ secret, store, session, network });
 * ```
 *
 * @module
 */
export type { Clock } from "../core/clock.js";
export { systemClock } from "../core/clock.js";
export type { CsrfFailure } from "../core/csrf.js";
export { describeCsrfFailure } from "../core/csrf.js";
export { DEFAULT_ALLOWED_HOSTS, resolveAllowedHosts } from "../core/hosts.js";
export type { AuthReply } from "../core/http.js";
export type {
  CookieOptions,
  CsrfOptions,
  LoginManagerOptions,
  NetworkOptions,
  RememberMeOptions,
  SessionOptions,
  ThrottleOptions,
  UserCacheOptions,
  ViewOptions,
} from "../core/options.js";
export type { ReplyHandler, ResolvedOptions } from "../core/settings.js";
