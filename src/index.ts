/**
 * `login-manager`: what an application uses (at most 35 names, checked by
 * `test/architecture/public-api.test.ts`). The rest lives in subpaths: `login-manager/express`,
 * `/fastify` and `/hono` (the adapters), `/options` (the named option groups), `/store` (the store
 * contract, for custom stores), `/adapter` (the pieces adapters are built from), `/password`,
 * `/stores/*` and `/testing`.
 *
 * @example
 * ```ts
 * import { LoginManager, UserMixin, currentUser, safeNextUrl } from "login-manager";
 * import { MemoryStore } from "login-manager/stores/memory";
 *
 * class User extends UserMixin {
 *   constructor(readonly id: string) {
 *     super();
 *   }
 * }
 * const manager = new LoginManager<User>({ secret: process.env.SECRET_KEY!, store: new MemoryStore() });
 * manager.userLoader((id) => new User(id));
 * ```
 *
 * @module
 */
export type { LoginAttemptResult, LoginOptions, SessionInfo } from "./core/auth-context.js";
export { AuthContext } from "./core/auth-context.js";
export {
  confirmLogin,
  currentAuth,
  currentUser,
  loginFresh,
  loginRemembered,
  loginUser,
  logoutUser,
} from "./core/context.js";
export {
  ConfigurationError,
  LoginManagerError,
  NoRequestContextError,
  PasswordInputError,
  StoreError,
} from "./core/errors.js";
export type { LoginManagerEvents } from "./core/events.js";
export type { RequestView } from "./core/http.js";
export { LoginManager } from "./core/manager.js";
export type { LoginManagerOptions } from "./core/options.js";
export { isSafeNextUrl, loginUrl, makeNextParam, safeNextUrl } from "./core/redirects.js";
export type { RequestLoader, UserLoader } from "./core/settings.js";
export type { SessionStore } from "./core/store.js";
export { prepareUsername } from "./core/usernames.js";
export type { AnonymousUser, AuthUser, Register, RegisteredUser } from "./core/users.js";
export { AnonymousUserMixin, UserMixin } from "./core/users.js";
export { mergeVary } from "./core/vary.js";
