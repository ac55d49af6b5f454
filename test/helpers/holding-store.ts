import type { SessionStore } from "login-manager";

/**
 * A call held by {@link HoldingStore.hold}: `reached` resolves when the store method is called
 * (with its arguments), and the call goes on to the real store only once `release()` runs.
 *
 * @example
 * ```ts
 * const held = holding.hold("createSession");
 * const login = auth.attemptLogin(attempt);
 * await held.reached;        // the login is about to store its session
 * await changePassword();    // the other party acts in between
 * held.release();
 * ```
 */
export interface HeldCall {
  readonly reached: Promise<unknown[]>;
  release(): void;
}

/**
 * Wraps a real store so a test can stop one chosen call until another party has acted: races are
 * tested as deterministic interleavings, not left to luck. Every other call goes straight through.
 *
 * @example
 * ```ts
 * const holding = new HoldingStore(new MemoryStore());
 * new LoginManager({ secret, store: holding.store });
 * ```
 */
export class HoldingStore {
  readonly store: SessionStore;
  readonly #pending: Array<{
    method: string;
    matches: (args: unknown[]) => boolean;
    arrived: (args: unknown[]) => void;
    gate: Promise<void>;
  }> = [];

  constructor(inner: SessionStore) {
    this.store = new Proxy(inner, {
      get: (target, property, receiver) => {
        const value: unknown = Reflect.get(target, property, receiver);
        if (typeof value !== "function") return value;
        return (...args: unknown[]) => {
          const index = this.#pending.findIndex((entry) => entry.method === property && entry.matches(args));
          const call = () => (value as (...a: unknown[]) => unknown).apply(target, args);
          if (index === -1) return call();
          const [entry] = this.#pending.splice(index, 1);
          if (!entry) return call();
          entry.arrived(args);
          return entry.gate.then(call);
        };
      },
    });
  }

  /** Holds the next call of `method` (whose arguments satisfy `matches`, if given). */
  hold(method: keyof SessionStore, matches: (args: unknown[]) => boolean = () => true): HeldCall {
    let arrived!: (args: unknown[]) => void;
    let release!: () => void;
    const reached = new Promise<unknown[]>((resolve) => {
      arrived = resolve;
    });
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    this.#pending.push({ method, matches, arrived, gate });
    return { reached, release };
  }
}
