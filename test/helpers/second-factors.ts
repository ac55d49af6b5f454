/**
 * Fixtures of the second-factor tests (src/mfa, src/passkeys): a manager on a MemoryStore that
 * records store calls, a fake clock, users, and `FakeAuth`, a stand-in for the request's
 * AuthContext with the issue-18 members (browser binding, pending login, completeLogin, verifySecret
 * with a failure budget per account).
 */
import type { RequestView } from "../../src/core/http.js";
import { LoginManager } from "../../src/core/manager.js";
import type { LoginAttemptResult } from "../../src/core/secret-checks.js";
import { UserMixin } from "../../src/core/users.js";
import type { PasskeyAuth, PendingLogin, SecretCheckResult } from "../../src/mfa/shared.js";
import { MemoryStore } from "../../src/stores/memory/index.js";
import { FakeClock, recordingStore, requestFrom } from "./recovery.js";

/** A user with a name. */
export class TestUser extends UserMixin {
  constructor(
    readonly id: string,
    readonly name: string,
  ) {
    super();
  }
}

/** Failures an account may have before FakeAuth locks it (as the manager's default). */
export const FAKE_BUDGET = 5;

/** Budgets shared by every FakeAuth of one setup, per account. */
export class FakeBudgets {
  readonly failures = new Map<string, number>();

  async check(account: string, verify: () => Promise<boolean>): Promise<SecretCheckResult> {
    const failures = this.failures.get(account) ?? 0;
    if (failures >= FAKE_BUDGET) return { ok: false, reason: "locked", retryAfterSeconds: 60 };
    if (await verify()) {
      this.failures.delete(account);
      return { ok: true };
    }
    this.failures.set(account, failures + 1);
    return failures + 1 >= FAKE_BUDGET
      ? { ok: false, reason: "invalid", retryAfterSeconds: 60 }
      : { ok: false, reason: "invalid" };
  }
}

/** A stand-in for AuthContext's issue-18 members, with a logged-in user or a pending login. */
export class FakeAuth implements PasskeyAuth<TestUser> {
  readonly request: RequestView = requestFrom();
  user: TestUser | null = null;
  fresh = true;
  binding = "binding-1";
  pending: PendingLogin | null = null;
  /** Methods of the last completed or new login. */
  methods: readonly string[] = [];
  remember = false;

  constructor(
    readonly users: ReadonlyMap<string, TestUser>,
    readonly budgets: FakeBudgets,
  ) {}

  requireUser(): TestUser {
    if (!this.user) throw new Error("requireUser() on an anonymous request");
    return this.user;
  }

  loginFresh(): boolean {
    return this.user !== null && this.fresh;
  }

  browserBinding(): string {
    return this.binding;
  }

  async pendingLogin(): Promise<PendingLogin | null> {
    return this.pending;
  }

  verifySecret(check: { account: string; verify: () => Promise<boolean> }): Promise<SecretCheckResult> {
    return this.budgets.check(check.account, check.verify);
  }

  async completeLogin(step: {
    methods: readonly string[];
    verify: (pending: PendingLogin) => Promise<boolean>;
  }): Promise<LoginAttemptResult<TestUser> | null> {
    const pending = this.pending;
    if (!pending) return null;
    const result = await this.budgets.check(pending.account, () => step.verify(pending));
    if (!result.ok) return result.reason === "locked" ? { ...result, retryAfterSeconds: 60 } : result;
    const user = this.users.get(pending.userId);
    if (!user) return { ok: false, reason: "invalid" };
    this.pending = null;
    this.user = user;
    this.methods = ["pwd", ...step.methods];
    this.remember = pending.remember;
    return { ok: true, user };
  }

  async loginUser(user: TestUser, options: { remember?: boolean; methods?: readonly string[] }) {
    this.user = user;
    this.pending = null;
    this.methods = options.methods ?? ["pwd"];
    this.remember = options.remember ?? false;
    return true;
  }
}

/** A manager on a recording MemoryStore with ada (1) and bob (2). */
export function factorSetup(secret: string | string[] = "second-factor-test-secret-0123456789abcdef") {
  const clock = new FakeClock();
  const memory = new MemoryStore();
  const { store, calls, fail } = recordingStore(memory);
  const users = new Map<string, TestUser>([
    ["1", new TestUser("1", "ada")],
    ["2", new TestUser("2", "bob")],
  ]);
  const budgets = new FakeBudgets();
  const managerWith = (secrets: string | string[]) =>
    new LoginManager<TestUser>({ secret: secrets, store, clock, userLoader: (id) => users.get(id) ?? null });
  const manager = managerWith(secret);
  /** A FakeAuth logged in (fresh) as `userId`. */
  const loggedIn = (userId: string) => {
    const auth = new FakeAuth(users, budgets);
    auth.user = users.get(userId) ?? null;
    return auth;
  };
  /** A FakeAuth whose password step for `userId` passed; the second factor is pending. */
  const pendingFor = (userId: string, remember = false) => {
    const auth = new FakeAuth(users, budgets);
    const account = users.get(userId)?.name ?? userId;
    auth.pending = { userId, account, remember, expiresAt: clock.now() + 300_000 };
    return auth;
  };
  return { clock, memory, store, calls, fail, users, budgets, manager, managerWith, loggedIn, pendingFor };
}

/** What {@link factorSetup} returns. */
export type FactorSetup = ReturnType<typeof factorSetup>;
