/**
 * The instrument's client: it logs in the way each bench server expects and sends keep-alive
 * requests, from this process, never the server's (only the server's main thread is counted).
 *
 * @module
 */
import { Agent, request } from "node:http";

/** The User-Agent of every request: session protection ties the session to it. */
export const UA = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0";
const PASSWORD = "correct horse battery staple";

/** What every request of a route sends and what its answer must start with. */
export interface Route {
  readonly path: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly expect: string;
}

function cookiePairs(response: Response): string[] {
  return response.headers.getSetCookie().map((line) => line.split(";")[0] as string);
}

function cookieNamed(response: Response, name: string): string | undefined {
  return cookiePairs(response).find((pair) => pair.startsWith(`${name}=`) && pair.length > name.length + 1);
}

/**
 * Logs user0 in on `bench/servers/lm-server.ts` as a browser would (CSRF token and cookie, then the
 * JSON form) and resolves with the session cookie pair.
 *
 * @example
 * ```ts
 * const cookie = await loginManagerLogin("http://127.0.0.1:3000");
 * ```
 */
export async function loginManagerLogin(base: string): Promise<string> {
  const csrfResponse = await fetch(`${base}/csrf`, { headers: { "user-agent": UA } });
  const { token } = (await csrfResponse.json()) as { token: string };
  const csrf = cookieNamed(csrfResponse, "csrf");
  if (!csrf) throw new Error(`${base}/csrf set no csrf cookie`);
  const response = await fetch(`${base}/login`, {
    method: "POST",
    headers: {
      "user-agent": UA,
      "content-type": "application/json",
      cookie: csrf,
      "x-csrf-token": token,
      "sec-fetch-site": "same-origin",
    },
    body: JSON.stringify({ username: "user0", password: PASSWORD }),
  });
  return sessionFrom(response, "session", base);
}

/**
 * Logs user0 in on a peer server (`passport-server.ts`, `better-auth-server.ts`): one JSON POST.
 *
 * @example
 * ```ts
 * const cookie = await peerLogin("http://127.0.0.1:3000", "connect.sid");
 * ```
 */
export async function peerLogin(base: string, cookieName: string): Promise<string> {
  const response = await fetch(`${base}/login`, {
    method: "POST",
    headers: { "user-agent": UA, "content-type": "application/json" },
    body: JSON.stringify({ username: "user0", password: PASSWORD }),
  });
  return sessionFrom(response, cookieName, base);
}

async function sessionFrom(response: Response, name: string, base: string): Promise<string> {
  const text = await response.text();
  const cookie = cookieNamed(response, name);
  if (!response.ok || !cookie)
    throw new Error(`${base}/login failed: ${response.status} ${text.slice(0, 200)}`);
  return cookie;
}

function once(agent: Agent, port: number, route: Route): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = request(
      { agent, host: "127.0.0.1", port, path: route.path, headers: route.headers },
      (res) => {
        let body = "";
        res.setEncoding("utf8");
        res.on("data", (chunk: string) => {
          body += chunk;
        });
        res.on("end", () => {
          if (res.statusCode === 200 && body.startsWith(route.expect)) resolve();
          else reject(new Error(`${route.path}: ${res.statusCode} ${JSON.stringify(body.slice(0, 120))}`));
        });
      },
    );
    req.on("error", reject);
    req.end();
  });
}

/**
 * One keep-alive connection to one server, kept across the warm-up and every counted window, so that
 * no counted request pays for a new connection. Requests go one at a time: each is then served in an
 * event-loop turn of its own, the same way in every run, whereas concurrent requests would share
 * turns in proportions that depend on timing.
 *
 * @example
 * ```ts
 * const client = new KeepAliveClient(port);
 * await client.send({ path: "/hello", headers: { "user-agent": UA }, expect: "Hello" }, 1000);
 * client.close();
 * ```
 */
export class KeepAliveClient {
  readonly #agent = new Agent({ keepAlive: true, maxSockets: 1 });

  constructor(readonly port: number) {}

  /** Sends `total` GET requests of one route; rejects on the first that is not 200 with the expected body. */
  async send(route: Route, total: number): Promise<void> {
    for (let sent = 0; sent < total; sent++) await once(this.#agent, this.port, route);
  }

  close(): void {
    this.#agent.destroy();
  }
}
