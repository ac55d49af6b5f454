/**
 * Sending mail: over SMTP with nodemailer (`SMTP_URL`), or, in development without it, into
 * `DATA_DIR/outbox/` as `.eml` files that the development page lists.
 *
 * @module
 */
import { randomBytes } from "node:crypto";
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { simpleParser } from "mailparser";
import nodemailer, { type Transporter } from "nodemailer";

/** One message for one person: plain text, with any link on a line of its own. */
export interface Mail {
  to: string;
  subject: string;
  text: string;
}

/**
 * Where mail goes. `send` resolves once the message was handed over (accepted by the SMTP server,
 * or written to the outbox) and rejects when it was not.
 *
 * @example
 * ```ts
 * await mailer.send({ to: "ada@example.com", subject: "Hello", text: "Hi Ada" });
 * ```
 */
export interface Mailer {
  send(mail: Mail): Promise<void>;
  close(): void;
}

/** How long an SMTP connection may take to open, greet, and go quiet before the send fails. */
const SMTP_TIMEOUTS = { connectionTimeout: 10_000, greetingTimeout: 10_000, socketTimeout: 30_000 };

/**
 * Sends over SMTP (`SMTP_URL`: `smtp://` with STARTTLS when the server offers it, `smtps://` for
 * TLS from the start; user and password in the URL). nodemailer's own logging stays off, so no
 * address, link or credential reaches the log.
 *
 * @example
 * ```ts
 * const mailer = new SmtpMailer("smtp://127.0.0.1:2525", "Demo <no-reply@example.com>");
 * ```
 */
export class SmtpMailer implements Mailer {
  readonly #transport: Transporter;

  constructor(url: string, from: string) {
    this.#transport = nodemailer.createTransport({ url, ...SMTP_TIMEOUTS, logger: false }, { from });
  }

  async send(mail: Mail): Promise<void> {
    await this.#transport.sendMail(mail);
  }

  close(): void {
    this.#transport.close();
  }
}

/** A mail in the development outbox, as the page shows it. */
export interface OutboxMail {
  /** The file name, without `.eml`. */
  id: string;
  date: Date | undefined;
  to: string;
  subject: string;
  text: string;
}

/**
 * The development mailer (no `SMTP_URL`, not in production): each message, built by nodemailer as
 * it would go out, is written to `dir` as `<time>-<random>.eml` (mode 0600; the folder 0700), so a
 * person trying the app opens the links from the outbox page or any mail program.
 *
 * @example
 * ```ts
 * const outbox = new OutboxMailer(join(dataDir, "outbox"), "Demo <no-reply@localhost>");
 * const latest = (await outbox.list())[0];
 * ```
 */
export class OutboxMailer implements Mailer {
  readonly dir: string;
  readonly #transport: Transporter;

  constructor(dir: string, from: string) {
    this.dir = dir;
    this.#transport = nodemailer.createTransport(
      { streamTransport: true, buffer: true, newline: "unix" },
      { from },
    );
  }

  async send(mail: Mail): Promise<void> {
    const info = await this.#transport.sendMail(mail);
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    const name = `${Date.now().toString().padStart(15, "0")}-${randomBytes(4).toString("hex")}.eml`;
    writeFileSync(join(this.dir, name), info.message as Buffer, { mode: 0o600 });
  }

  /** The newest `limit` mails, newest first (an empty list before the first one). */
  async list(limit = 50): Promise<OutboxMail[]> {
    let names: string[];
    try {
      names = readdirSync(this.dir).filter((name) => /^\d{15}-[0-9a-f]{8}\.eml$/.test(name));
    } catch {
      return [];
    }
    const newest = names.sort().reverse().slice(0, limit);
    return Promise.all(newest.map((name) => this.#read(name)));
  }

  close(): void {
    this.#transport.close();
  }

  async #read(name: string): Promise<OutboxMail> {
    const parsed = await simpleParser(readFileSync(join(this.dir, name)));
    const to = Array.isArray(parsed.to) ? parsed.to.map((one) => one.text).join(", ") : parsed.to?.text;
    return {
      id: name.slice(0, -".eml".length),
      date: parsed.date,
      to: to ?? "",
      subject: parsed.subject ?? "",
      text: parsed.text ?? "",
    };
  }
}
