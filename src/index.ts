export type { AuthSource, LoginAttemptResult, LoginOptions, SessionInfo } from "./core/auth-context.js";
export { AuthContext } from "./core/auth-context.js";
export { clientAddress, isHttps } from "./core/client.js";
export type { Clock } from "./core/clock.js";
export { systemClock } from "./core/clock.js";
export {
  confirmLogin,
  currentAuth,
  currentUser,
  loginFresh,
  loginRemembered,
  loginUser,
  logoutUser,
  runWithAuth,
} from "./core/context.js";
export type { CookieAttributes } from "./core/cookies.js";
export { readCookies, replaceSetCookie, serializeCookie } from "./core/cookies.js";
export type { CsrfFailure } from "./core/csrf.js";
export { describeCsrfFailure } from "./core/csrf.js";
export type { LoginManagerErrorCode } from "./core/errors.js";
export {
  ConfigurationError,
  LoginManagerError,
  NoRequestContextError,
  PasswordInputError,
  StoreError,
  unavailableStoreError,
} from "./core/errors.js";
export type { Listener, LoginManagerEvents } from "./core/events.js";
export type { FlashMessage } from "./core/flash.js";
export { DEFAULT_ALLOWED_HOSTS, resolveAllowedHosts } from "./core/hosts.js";
export type { AuthReply, RequestView, ResponseView } from "./core/http.js";
export { LoginManager } from "./core/manager.js";
export type { MaybePromise } from "./core/maybe-promise.js";
export { isPromiseLike } from "./core/maybe-promise.js";
export type {
  LoginManagerOptions,
  ReplyHandler,
  RequestLoader,
  ResolvedOptions,
  UserLoader,
} from "./core/options.js";
export { isSafeNextUrl, loginUrl, makeNextParam, safeNextUrl } from "./core/redirects.js";
export type {
  DeletedSessionCounts,
  FailureRecord,
  RememberTokenRecord,
  RotateRememberInput,
  RotateRememberResult,
  SessionPatch,
  SessionRecord,
  SessionStore,
} from "./core/store.js";
export { addressBucket } from "./core/throttle.js";
export type { PreparedUsername, UsernameRefusal } from "./core/usernames.js";
export { MAX_USERNAME_INPUT_LENGTH, prepareUsername } from "./core/usernames.js";
export type { AnonymousUser, AuthUser, Register, RegisteredUser } from "./core/users.js";
export { AnonymousUserMixin, UserMixin } from "./core/users.js";
export { mergeVary } from "./core/vary.js";
