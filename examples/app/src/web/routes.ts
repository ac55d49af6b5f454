/**
 * The app's HTTP contract in one table: every route behind login-manager, with its guard and
 * handler. Each framework's routing layer registers exactly these, mapping the guard to its own
 * `loginRequired` / `freshLoginRequired`, so Express, Fastify and Hono serve the same site.
 *
 * @module
 */
import type { Handler } from "./app.js";
import {
  account,
  backToAccount,
  changePassword,
  revokeFromForm,
  revokeFromPath,
  revokeOthers,
} from "./routes-account.js";
import {
  home,
  login,
  loginForm,
  logout,
  logoutForm,
  protectedPage,
  reauth,
  reauthForm,
  register,
  registerForm,
} from "./routes-auth.js";
import { changeEmail, outboxPage, resendVerification, verifyEmail, verifyForm } from "./routes-email.js";
import {
  cancelSecondStep,
  confirmTotp,
  disableTotp,
  regenerateRecoveryCodes,
  secondStep,
  secondStepForm,
  startTotp,
} from "./routes-mfa.js";
import {
  authenticationOptions,
  finishAuthentication,
  finishReauth,
  finishRegistration,
  reauthOptions,
  registrationOptions,
  removePasskey,
  renamePasskey,
} from "./routes-passkeys.js";
import { forgot, forgotForm, resetForm, resetPassword } from "./routes-recovery.js";

/** Who may reach a route: anyone, a logged-in user, or a user who typed the password in this session. */
export type Guard = "none" | "login" | "fresh";

/** One route of the app. Paths use `:name` parameters, which all three routers understand. */
export interface Route {
  method: "GET" | "POST";
  path: string;
  guard: Guard;
  handler: Handler;
}

/** Every route behind login-manager (`/healthz` and `/static/*` come before it). */
export const ROUTES: readonly Route[] = [
  { method: "GET", path: "/", guard: "none", handler: home },
  { method: "GET", path: "/register", guard: "none", handler: registerForm },
  { method: "POST", path: "/register", guard: "none", handler: register },
  { method: "GET", path: "/login", guard: "none", handler: loginForm },
  { method: "POST", path: "/login", guard: "none", handler: login },
  { method: "GET", path: "/login/2fa", guard: "none", handler: secondStepForm },
  { method: "POST", path: "/login/2fa", guard: "none", handler: secondStep },
  { method: "POST", path: "/login/2fa/cancel", guard: "none", handler: cancelSecondStep },
  { method: "GET", path: "/protected", guard: "login", handler: protectedPage },
  { method: "GET", path: "/logout", guard: "none", handler: logoutForm },
  { method: "POST", path: "/logout", guard: "none", handler: logout },
  { method: "GET", path: "/reauth", guard: "login", handler: reauthForm },
  { method: "POST", path: "/reauth", guard: "login", handler: reauth },
  { method: "GET", path: "/account", guard: "login", handler: account },
  { method: "GET", path: "/account/password", guard: "login", handler: backToAccount },
  { method: "POST", path: "/account/password", guard: "fresh", handler: changePassword },
  { method: "GET", path: "/account/sessions/revoke-others", guard: "login", handler: backToAccount },
  { method: "POST", path: "/account/sessions/revoke-others", guard: "fresh", handler: revokeOthers },
  { method: "GET", path: "/account/sessions/revoke", guard: "login", handler: backToAccount },
  { method: "POST", path: "/account/sessions/revoke", guard: "fresh", handler: revokeFromForm },
  { method: "GET", path: "/account/sessions/:handle/revoke", guard: "login", handler: backToAccount },
  { method: "POST", path: "/account/sessions/:handle/revoke", guard: "fresh", handler: revokeFromPath },
  { method: "GET", path: "/account/email", guard: "login", handler: backToAccount },
  { method: "POST", path: "/account/email", guard: "fresh", handler: changeEmail },
  { method: "GET", path: "/account/email/resend", guard: "login", handler: backToAccount },
  { method: "POST", path: "/account/email/resend", guard: "login", handler: resendVerification },
  { method: "GET", path: "/account/2fa/totp/start", guard: "login", handler: backToAccount },
  { method: "POST", path: "/account/2fa/totp/start", guard: "fresh", handler: startTotp },
  { method: "GET", path: "/account/2fa/totp/confirm", guard: "login", handler: backToAccount },
  { method: "POST", path: "/account/2fa/totp/confirm", guard: "fresh", handler: confirmTotp },
  { method: "GET", path: "/account/2fa/totp/disable", guard: "login", handler: backToAccount },
  { method: "POST", path: "/account/2fa/totp/disable", guard: "fresh", handler: disableTotp },
  { method: "GET", path: "/account/2fa/recovery-codes", guard: "login", handler: backToAccount },
  { method: "POST", path: "/account/2fa/recovery-codes", guard: "fresh", handler: regenerateRecoveryCodes },
  { method: "GET", path: "/account/passkeys/rename", guard: "login", handler: backToAccount },
  { method: "POST", path: "/account/passkeys/rename", guard: "fresh", handler: renamePasskey },
  { method: "GET", path: "/account/passkeys/remove", guard: "login", handler: backToAccount },
  { method: "POST", path: "/account/passkeys/remove", guard: "fresh", handler: removePasskey },
  // JSON endpoints of public/passkeys.js.
  { method: "POST", path: "/passkeys/register/options", guard: "fresh", handler: registrationOptions },
  { method: "POST", path: "/passkeys/register/verify", guard: "fresh", handler: finishRegistration },
  { method: "POST", path: "/passkeys/login/options", guard: "none", handler: authenticationOptions },
  { method: "POST", path: "/passkeys/login/verify", guard: "none", handler: finishAuthentication },
  { method: "POST", path: "/passkeys/reauth/options", guard: "login", handler: reauthOptions },
  { method: "POST", path: "/passkeys/reauth/verify", guard: "login", handler: finishReauth },
  { method: "GET", path: "/password/forgot", guard: "none", handler: forgotForm },
  { method: "POST", path: "/password/forgot", guard: "none", handler: forgot },
  { method: "GET", path: "/password/reset", guard: "none", handler: resetForm },
  { method: "POST", path: "/password/reset", guard: "none", handler: resetPassword },
  { method: "GET", path: "/email/verify", guard: "none", handler: verifyForm },
  { method: "POST", path: "/email/verify", guard: "none", handler: verifyEmail },
  // Development only: answers 404 when mail goes out over SMTP, and in production.
  { method: "GET", path: "/dev/outbox", guard: "none", handler: outboxPage },
];
