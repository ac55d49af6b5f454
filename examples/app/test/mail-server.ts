/**
 * A real SMTP server on loopback for the tests (`smtp-server`), keeping every message it accepts,
 * parsed with `mailparser`. The app sends to it through nodemailer over a TCP connection, exactly as
 * to a mail relay in production.
 *
 * @module
 */
import type { AddressInfo } from "node:net";
import { simpleParser } from "mailparser";
import { SMTPServer } from "smtp-server";

/** A message as the server received it. */
export interface ReceivedMail {
  /** The envelope's recipients (`RCPT TO`). */
  recipients: string[];
  from: string;
  to: string;
  subject: string;
  text: string;
  /** Every http(s) link in the text. */
  links: string[];
  /** The message as sent, headers included. */
  raw: string;
}

/**
 * An SMTP server on 127.0.0.1 and a free port, without TLS or authentication.
 *
 * @example
 * ```ts
 * const smtp = await TestMailServer.start();
 * const app = await startTestApp({ env: { SMTP_URL: smtp.url } });
 * const mail = await smtp.waitFor((m) => m.subject.startsWith("Reset"));
 * ```
 */
export class TestMailServer {
  readonly mails: ReceivedMail[] = [];
  /** While true, every message is refused with a 550 (to test a failed delivery). */
  refusing = false;
  url = "";
  readonly #server: SMTPServer;

  private constructor() {
    this.#server = new SMTPServer({
      authOptional: true,
      disabledCommands: ["STARTTLS", "AUTH"],
      logger: false,
      onData: (stream, session, callback) => {
        const chunks: Buffer[] = [];
        stream.on("data", (chunk: Buffer) => chunks.push(chunk));
        stream.on("end", () => {
          if (this.refusing) {
            const refused = new Error("mailbox unavailable") as Error & { responseCode: number };
            refused.responseCode = 550;
            callback(refused);
            return;
          }
          const raw = Buffer.concat(chunks);
          const recipients = session.envelope.rcptTo.map((address) => address.address);
          simpleParser(raw).then(
            (parsed) => {
              const to = Array.isArray(parsed.to)
                ? parsed.to.map((one) => one.text).join(", ")
                : parsed.to?.text;
              const text = parsed.text ?? "";
              this.mails.push({
                recipients,
                from: parsed.from?.text ?? "",
                to: to ?? "",
                subject: parsed.subject ?? "",
                text,
                links: text.match(/https?:\/\/[^\s<>"]+/g) ?? [],
                raw: raw.toString("utf8"),
              });
              callback();
            },
            (error: unknown) => callback(error as Error),
          );
        });
      },
    });
  }

  /** Starts a server on a free port of 127.0.0.1. */
  static async start(): Promise<TestMailServer> {
    const server = new TestMailServer();
    await new Promise<void>((resolve) => server.#server.listen(0, "127.0.0.1", resolve));
    const { port } = server.#server.server.address() as AddressInfo;
    server.url = `smtp://127.0.0.1:${port}`;
    return server;
  }

  /** The messages whose envelope names `address` (case-insensitively). */
  mailsTo(address: string): ReceivedMail[] {
    const wanted = address.toLowerCase();
    return this.mails.filter((mail) => mail.recipients.some((one) => one.toLowerCase() === wanted));
  }

  /** The first message (in arrival order) matching `predicate`, waiting up to `timeoutMs` for it. */
  async waitFor(predicate: (mail: ReceivedMail) => boolean, timeoutMs = 10_000): Promise<ReceivedMail> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.mails.find(predicate);
      if (found) return found;
      if (Date.now() > deadline) {
        const seen = this.mails.map((mail) => `${mail.recipients.join(",")}: ${mail.subject}`);
        throw new Error(`no such mail within ${timeoutMs} ms; received: ${JSON.stringify(seen)}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}
