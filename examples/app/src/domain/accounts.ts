import { PasswordInputError } from "login-manager";
import type { PasswordHasher } from "login-manager/password";
import { type BreachedPasswords, breachedMessage } from "./breached-passwords.js";
import type { CommonPasswords } from "./common-passwords.js";
import { checkEmail } from "./email.js";
import { checkNewPassword, checkUsername } from "./policy.js";
import type { User, UserRepository } from "./users.js";
import { DuplicateEmailError, DuplicateUsernameError } from "./users.js";

/** What the account use cases need; every framework version of the app passes the same. */
export interface AccountServices {
  users: UserRepository;
  hasher: PasswordHasher;
  commonPasswords: CommonPasswords;
  /** The breached-password check (`BREACHED_PASSWORD_API_URL`); none when unset. */
  breachedPasswords?: BreachedPasswords | undefined;
}

/** Messages for a form, by field name. */
export type FieldErrors = Partial<
  Record<"username" | "email" | "password" | "current_password" | "new_password", string>
>;

/** A form that could not be accepted: the HTTP status to answer with and what to tell the user. */
export interface Rejection {
  ok: false;
  status: 400 | 409;
  errors: FieldErrors;
}

/** The answer to a taken username. */
const USERNAME_TAKEN = { username: "That username is already taken." };
/** The answer to a taken address. */
const EMAIL_TAKEN = { email: "That e-mail address is already registered. Log in, or reset your password." };

/**
 * Registers a user after checking the username, e-mail address and password policies, then the
 * breached-password check when one is configured (`host`: the request's `Host` header, whose site
 * name is a context word, see `contextWords`). 400 for a policy failure or a breached password, 409
 * when the username (or a case or look-alike variant) or the address (in any case) is taken, after
 * the same argon2 hashing as a new account (so timing does not reveal taken names). Resolves once the
 * user is stored; the address is not verified yet.
 *
 * @example
 * ```ts
 * const result = await registerAccount(services, { username: "alice", email: "alice@example.com", password: "a long passphrase" });
 * if (!result.ok) res.status(result.status);
 * ```
 */
export async function registerAccount(
  services: AccountServices,
  input: { username: unknown; email: unknown; password: unknown; host?: string | undefined },
): Promise<{ ok: true; user: User } | Rejection> {
  const username = checkUsername(input.username);
  const email = checkEmail(input.email);
  const typed = typeof input.username === "string" ? input.username : "";
  const password = checkNewPassword(
    input.password,
    username.ok ? username.value.username : typed,
    services.commonPasswords,
    input.host,
  );
  const errors: FieldErrors = {};
  if (!username.ok) errors.username = username.message;
  if (!email.ok) errors.email = email.message;
  if (!password.ok) errors.password = password.message;
  if (!username.ok || !email.ok || !password.ok) return { ok: false, status: 400, errors };
  const breached = await breachMessage(services, input.password as string);
  if (breached) return { ok: false, status: 400, errors: { password: breached } };
  // Hashed before the lookups, taken or not: a taken username or address costs the same argon2
  // work as a new one, so the answer's timing does not tell them apart (ASVS 6.3.8); the 409 is the
  // only difference.
  const passwordHash = await services.hasher.hash(input.password as string);
  const taken = await takenFields(services.users, username.value.key, email.value.key);
  if (taken) return { ok: false, status: 409, errors: taken };
  try {
    const user = await services.users.create({
      ...username.value,
      email: email.value.email,
      emailKey: email.value.key,
      passwordHash,
    });
    return { ok: true, user };
  } catch (error) {
    if (error instanceof DuplicateUsernameError) return { ok: false, status: 409, errors: USERNAME_TAKEN };
    if (error instanceof DuplicateEmailError) return { ok: false, status: 409, errors: EMAIL_TAKEN };
    throw error;
  }
}

/** The messages for a taken username and address, or undefined when both are free. */
async function takenFields(
  users: UserRepository,
  key: string,
  emailKey: string,
): Promise<FieldErrors | undefined> {
  const [byName, byEmail] = await Promise.all([users.findByKey(key), users.findByEmail(emailKey)]);
  if (!byName && !byEmail) return undefined;
  return { ...(byName ? USERNAME_TAKEN : {}), ...(byEmail ? EMAIL_TAKEN : {}) };
}

/**
 * Checks a username key and password with exactly one argon2 verification whether or not the user
 * exists (a dummy one for unknown users), so the answer takes the same time. Resolves the user when
 * the password matches, even an inactive one: the login manager refuses those like a wrong password.
 *
 * @example
 * ```ts
 * await req.auth.attemptLogin({ account: key, verify: () => verifyCredentials(services, key, password) });
 * ```
 */
export async function verifyCredentials(
  services: AccountServices,
  key: string,
  password: string,
): Promise<User | null> {
  const user = await services.users.findByKey(key);
  try {
    if (!user) {
      await services.hasher.verifyDummy(password);
      return null;
    }
    return (await services.hasher.verify(user.passwordHash, password)) ? user : null;
  } catch (error) {
    if (error instanceof PasswordInputError) return null;
    throw error;
  }
}

/**
 * True when `password` is the user's current password; invalid or over-long input is just wrong.
 *
 * @example
 * ```ts
 * if (!(await passwordMatches(services, user, req.body.password))) return reject();
 * ```
 */
export async function passwordMatches(
  services: AccountServices,
  user: User,
  password: unknown,
): Promise<boolean> {
  if (typeof password !== "string" || password.length === 0) return false;
  try {
    return await services.hasher.verify(user.passwordHash, password);
  } catch (error) {
    if (error instanceof PasswordInputError) return false;
    throw error;
  }
}

/**
 * After a successful login: re-hashes the password with argon2id when its stored hash needs it:
 * older argon2 parameters, or a bcrypt or Werkzeug hash imported from a Passport or Flask app
 * (which `verify` accepts until then). Resolves true when it stored a new hash.
 *
 * @example
 * ```ts
 * if (result.ok) await rehashIfNeeded(services, result.user, password);
 * ```
 */
export async function rehashIfNeeded(
  services: AccountServices,
  user: User,
  password: string,
): Promise<boolean> {
  if (!services.hasher.needsRehash(user.passwordHash)) return false;
  await services.users.updatePasswordHash(user.id, await services.hasher.hash(password));
  return true;
}

/**
 * Checks a new password for `user`: the password policy, then, when one is configured, the
 * breached-password check. 400 with the message under `new_password` when it is refused.
 *
 * @example
 * ```ts
 * const checked = await checkPasswordChoice(services, user, { next: "a new passphrase" });
 * if (!checked.ok) return page(checked.status, checked.errors);
 * ```
 */
export async function checkPasswordChoice(
  services: AccountServices,
  user: Pick<User, "username">,
  input: { next: unknown; host?: string | undefined },
): Promise<{ ok: true; password: string } | Rejection> {
  const policy = checkNewPassword(input.next, user.username, services.commonPasswords, input.host);
  if (!policy.ok) return { ok: false, status: 400, errors: { new_password: policy.message } };
  const breached = await breachMessage(services, input.next as string);
  if (breached) return { ok: false, status: 400, errors: { new_password: breached } };
  return { ok: true, password: input.next as string };
}

/**
 * Sets a user's new password after {@link checkPasswordChoice}. It does not check the current
 * password: the caller must have confirmed it first (the account page does, through
 * `auth.attemptReauth`, so wrong guesses are throttled), and must then end the user's other
 * sessions (`auth.afterPasswordChange()`).
 *
 * @example
 * ```ts
 * const result = await setNewPassword(services, user, { next: "a new passphrase" });
 * ```
 */
export async function setNewPassword(
  services: AccountServices,
  user: User,
  input: { next: unknown; host?: string | undefined },
): Promise<{ ok: true } | Rejection> {
  const checked = await checkPasswordChoice(services, user, input);
  if (!checked.ok) return checked;
  await services.users.updatePasswordHash(user.id, await services.hasher.hash(checked.password));
  return { ok: true };
}

/**
 * The message for a password found in the breach corpus, else undefined: also when no check is
 * configured or the check got no answer (fail open; the checker logs a warning).
 */
async function breachMessage(services: AccountServices, password: string): Promise<string | undefined> {
  if (!services.breachedPasswords) return undefined;
  const result = await services.breachedPasswords.check(password);
  return result.status === "breached" ? breachedMessage(result.count) : undefined;
}
