/**
 * In-process microbenchmark of login-manager's per-request work, without HTTP: what an adapter does
 * for a logged-in GET (memory store): `manager.admit` (the Host check, identification and the CSRF
 * check), the route guard (`guardReply`), runInContext and currentUser(). Reports CPU
 * nanoseconds per request (process.cpuUsage, so a busy machine disturbs it less than wall time).
 * Used to check each performance change; `node --import tsx bench/micro-authenticate.ts` (loads the
 * tsc build in dist/, or the sources with BENCH_LIB=src).
 */

import { guardReply, isPromiseLike, type ResponseView } from "../src/adapter/index.js";
import { AuthContext, currentUser, LoginManager, type RequestView, UserMixin } from "../src/index.js";
import { MemoryStore } from "../src/stores/memory/index.js";
import { createLoginCookie } from "../src/testing/index.js";

class User extends UserMixin {
  constructor(
    readonly id: string,
    readonly name: string,
  ) {
    super();
  }
}
const users = new Map([["1", new User("1", "alice")]]);
const manager = new LoginManager<User>({
  secret: "bench-secret-bench-secret-bench-secret-0123456789",
  store: new MemoryStore(),
  userLoader: (id) => users.get(id) ?? null,
});
const UA = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0";
const cookie = await createLoginCookie(manager, users.get("1") as User, {
  userAgent: UA,
  remoteAddress: "127.0.0.1",
});
const headers: Record<string, string> = {
  host: "127.0.0.1:3000",
  "user-agent": UA,
  accept: "text/html,application/xhtml+xml",
  cookie: `_ga=GA1.1.123; ${cookie}; theme=dark`,
};
const request: RequestView = {
  method: "GET",
  url: "/protected",
  header: (name) => headers[name],
  remoteAddress: "127.0.0.1",
  encrypted: false,
  formField: () => undefined,
};
const response: ResponseView = { setCookie: () => undefined, setHeader: () => undefined };

async function once(): Promise<void> {
  const admitted = manager.admit(request, response);
  const auth = isPromiseLike(admitted) ? await admitted : admitted;
  if (!(auth instanceof AuthContext)) throw new Error(`refused: ${auth.status}`);
  if (guardReply(auth, { fresh: false })) throw new Error("guard");
  await manager.runInContext(auth, async () => {
    const user = currentUser<User>();
    if (user.isAnonymous) throw new Error("anonymous");
  });
}

const N = Number(process.env.N ?? 200_000);
for (let i = 0; i < 20_000; i++) await once();
const rounds: number[] = [];
for (let r = 0; r < 5; r++) {
  const start = process.cpuUsage();
  for (let i = 0; i < N; i++) await once();
  const used = process.cpuUsage(start);
  rounds.push(((used.user + used.system) * 1000) / N);
}
rounds.sort((a, b) => a - b);
console.log(
  JSON.stringify({ nsPerRequest: Math.round(rounds[2] as number), rounds: rounds.map(Math.round) }),
);
