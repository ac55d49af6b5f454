/**
 * How the core asks a `ResponseView` for Vary: Cookie on a logged-in request. `appendVary` is
 * optional, so custom adapters written before it existed keep working through `setHeader`.
 */
import type { RequestView } from "login-manager";
import { LoginManager, UserMixin } from "login-manager";
import type { ResponseView } from "login-manager/adapter";
import { MemoryStore } from "login-manager/stores/memory";
import { createLoginCookie, fakeRequest } from "login-manager/testing";
import { describe, expect, it } from "vitest";

class User extends UserMixin {
  constructor(readonly id: string) {
    super();
  }
}

const alice = new User("1");

function requestWith(cookie: string | undefined): RequestView {
  return fakeRequest({ headers: { cookie } });
}

/** A ResponseView that records the header and Vary calls it gets. */
function recorder(withAppendVary: boolean): ResponseView & { calls: string[] } {
  const calls: string[] = [];
  const view: ResponseView & { calls: string[] } = {
    calls,
    setCookie: () => undefined,
    setHeader: (name, value) => calls.push(`setHeader ${name}: ${value}`),
  };
  if (withAppendVary) view.appendVary = (field) => calls.push(`appendVary ${field}`);
  return view;
}

async function identify(response: ResponseView, loggedIn: boolean): Promise<void> {
  const manager = new LoginManager<User>({
    secret: "response-view-vary-secret-response-view",
    store: new MemoryStore(),
    userLoader: (id) => (id === "1" ? alice : null),
  });
  const cookie = loggedIn ? await createLoginCookie(manager, alice) : undefined;
  await manager.authenticate(requestWith(cookie), response);
}

describe("Vary: Cookie through the ResponseView", () => {
  it("is added with appendVary when the view has it, never set with setHeader", async () => {
    const response = recorder(true);
    await identify(response, true);
    expect(response.calls).toContain("appendVary Cookie");
    expect(response.calls.filter((call) => call.startsWith("setHeader vary"))).toEqual([]);
  });

  it("is set with setHeader('vary', 'Cookie') when the view has no appendVary (custom adapters)", async () => {
    const response = recorder(false);
    await identify(response, true);
    expect(response.calls).toContain("setHeader vary: Cookie");
  });

  it("is not asked for on an anonymous request", async () => {
    const response = recorder(true);
    await identify(response, false);
    expect(response.calls.filter((call) => /vary/i.test(call))).toEqual([]);
  });
});
