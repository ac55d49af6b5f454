/**
 * Mail deliveries started without being awaited, so that a request's answer does not wait for (and
 * so does not reveal) a mail that only an existing account gets. Each delivery is tracked until it
 * settles, and its failure goes to the app's error handler: never an unhandled rejection.
 *
 * @module
 */

/**
 * Receives the error of a mail delivery that failed (the app's transport threw or rejected).
 *
 * @example
 * ```ts
 * const onDeliveryError: DeliveryErrorHandler = (error) => log.error({ err: error }, "recovery mail failed");
 * ```
 */
export type DeliveryErrorHandler = (error: unknown) => void;

/**
 * The handler used when the app passes none: logs the error as the transport produced it. The
 * library never puts a token into an error; keep links out of your transport's errors too.
 *
 * @example
 * ```ts
 * new PasswordReset(manager, { ...options, onDeliveryError: defaultDeliveryErrorHandler });
 * ```
 */
export const defaultDeliveryErrorHandler: DeliveryErrorHandler = (error) => {
  console.error("login-manager: a recovery mail could not be sent:", error);
};

/**
 * Deliveries in flight. A delivery starts on a later turn of the event loop (`setImmediate`), after
 * the answer of the request that caused it has been written, so even the synchronous part of the
 * app's mail function (rendering a template, say) adds nothing to that answer's time.
 *
 * @example
 * ```ts
 * const deliveries = new Deliveries((error) => log.error(error));
 * deliveries.start(() => mailer.send(message));
 * await deliveries.settled(); // at shutdown, or in a test
 * ```
 */
export class Deliveries {
  readonly #pending = new Set<Promise<void>>();
  readonly #onError: DeliveryErrorHandler;

  constructor(onError: DeliveryErrorHandler) {
    this.#onError = onError;
  }

  /** Starts `send` soon, without waiting for it; its failure goes to the error handler. */
  start(send: () => Promise<void>): void {
    const delivery: Promise<void> = new Promise<void>((resolve) => setImmediate(resolve))
      .then(send)
      .then(
        () => undefined,
        (error: unknown) => this.#report(error),
      )
      .finally(() => this.#pending.delete(delivery));
    this.#pending.add(delivery);
  }

  /** How many deliveries have not settled yet. */
  get size(): number {
    return this.#pending.size;
  }

  /** Resolves once every delivery started so far, and any started meanwhile, has settled. Never rejects. */
  async settled(): Promise<void> {
    while (this.#pending.size > 0) await Promise.all([...this.#pending]);
  }

  #report(error: unknown): void {
    try {
      this.#onError(error);
    } catch {
      // A throwing error handler must not turn a failed mail into an unhandled rejection.
    }
  }
}
