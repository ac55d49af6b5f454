import { describe, expect, it } from "vitest";
import { FakeClock } from "../../test/helpers/recovery.js";
import { MemoryStore } from "../stores/memory/index.js";
import { Deliveries } from "./deliveries.js";
import { RequestLimiter } from "./limiter.js";
import { isTokenShaped, resolveLimits, throttleKeyOfEmail } from "./shared.js";

const LIMITS = { perAccount: 3, perAddress: 5, windowSeconds: 600 };

describe("RequestLimiter", () => {
  it("lets exactly the limit through of concurrent requests", async () => {
    const limiter = new RequestLimiter(new MemoryStore(), new FakeClock(), LIMITS, "test");
    const answers = await Promise.all(Array.from({ length: 8 }, () => limiter.admit("ada", "192.0.2.1")));
    expect(answers.filter((answer) => answer.ok)).toHaveLength(3);
    expect(answers.filter((answer) => !answer.ok)).toHaveLength(5);
  });

  it("does not count a refused request, so hammering does not lengthen the wait", async () => {
    const clock = new FakeClock();
    const limiter = new RequestLimiter(new MemoryStore(), clock, LIMITS, "test");
    for (let i = 0; i < 3; i++) expect(await limiter.admit("ada", "192.0.2.1")).toEqual({ ok: true });
    for (let i = 0; i < 10; i++) {
      clock.advance(59);
      expect(await limiter.admit("ada", "192.0.2.1")).toEqual({
        ok: false,
        retryAfterSeconds: 600 - 59 * (i + 1),
      });
    }
    clock.advance(10);
    expect(await limiter.admit("ada", "192.0.2.1")).toEqual({ ok: true });
  });

  it("answers the longer wait when both limits are reached", async () => {
    const clock = new FakeClock();
    const limiter = new RequestLimiter(new MemoryStore(), clock, { ...LIMITS, perAddress: 3 }, "test");
    await limiter.admit("bob", "192.0.2.1");
    clock.advance(100);
    await limiter.admit("ada", "192.0.2.1");
    await limiter.admit("ada", "192.0.2.1");
    clock.advance(100);
    await limiter.admit("ada", "192.0.2.2");
    expect(await limiter.admit("ada", "192.0.2.1")).toEqual({ ok: false, retryAfterSeconds: 600 });
  });
});

describe("Deliveries", () => {
  it("starts a delivery on a later turn of the event loop and settles after it", async () => {
    const deliveries = new Deliveries(() => undefined);
    const order: string[] = [];
    deliveries.start(async () => {
      order.push("sent");
    });
    await Promise.resolve();
    order.push("answered");
    expect(deliveries.size).toBe(1);
    await deliveries.settled();
    expect(order).toEqual(["answered", "sent"]);
    expect(deliveries.size).toBe(0);
  });

  it("waits for deliveries started while it waits", async () => {
    const deliveries = new Deliveries(() => undefined);
    let sent = 0;
    deliveries.start(async () => {
      sent++;
      deliveries.start(async () => {
        sent++;
      });
    });
    await deliveries.settled();
    expect(sent).toBe(2);
  });
});

describe("recovery input checks", () => {
  it("accepts only the one-time token shape", () => {
    const token = `${"A".repeat(22)}.${"b_-".repeat(7)}c`;
    expect(isTokenShaped(token)).toBe(true);
    for (const bad of [`${token} `, token.replace(".", ":"), `${"A".repeat(22)}.${"b".repeat(21)}+`, {}, 1]) {
      expect(isTokenShaped(bad)).toBe(false);
    }
  });

  it("throttles an address under a form that ignores case, spaces and compatibility characters", () => {
    expect(throttleKeyOfEmail(" Ada@Example.COM ")).toBe("ada@example.com");
    expect(throttleKeyOfEmail("ａｄａ@example.com")).toBe("ada@example.com");
  });

  it("fills in default limits", () => {
    expect(resolveLimits(undefined, "X")).toEqual({ perAccount: 3, perAddress: 10, windowSeconds: 3600 });
    expect(resolveLimits({ perAddress: 20 }, "X")).toEqual({
      perAccount: 3,
      perAddress: 20,
      windowSeconds: 3600,
    });
  });
});
