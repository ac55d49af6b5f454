import { describe, expect, it } from "vitest";
import { AnonymousUserMixin, UserMixin } from "./users.js";

// Flask-Login UserMixinTestCase / AnonymousUserTestCase (inventory items 66-67).

class ImplicitIdUser extends UserMixin {
  constructor(readonly id: unknown) {
    super();
  }
}

class ExplicitIdUser extends UserMixin {
  constructor(readonly name: string) {
    super();
  }
}

class InactiveUser extends UserMixin {
  constructor(readonly id: number) {
    super();
  }

  override get isActive(): boolean {
    return false;
  }
}

describe("UserMixin (Flask-Login test_default_values ... test_hashable, item 66)", () => {
  it("is active, authenticated and not anonymous by default", () => {
    const user = new ImplicitIdUser(1);
    expect(user.isActive).toBe(true);
    expect(user.isAuthenticated).toBe(true);
    expect(user.isAnonymous).toBe(false);
  });

  it("is not authenticated once inactive (isAuthenticated follows isActive, Flask-Login 0.6.0)", () => {
    const user = new InactiveUser(1);
    expect(user.isActive).toBe(false);
    expect(user.isAuthenticated).toBe(false);
  });

  it("returns String(id) from getId", () => {
    expect(new ImplicitIdUser(1).getId()).toBe("1");
    expect(new ImplicitIdUser("\u4f50\u85e4").getId()).toBe("\u4f50\u85e4");
    expect(new ImplicitIdUser(0).getId()).toBe("0");
    expect(new ImplicitIdUser(12345678901234567890n).getId()).toBe("12345678901234567890");
  });

  it("throws a helpful error from getId when there is no id (NotImplementedError in Flask-Login)", () => {
    expect(() => new ExplicitIdUser("Notch").getId()).toThrow(/No `id` attribute/);
    expect(() => new ImplicitIdUser(null).getId()).toThrow(TypeError);
    expect(() => new ImplicitIdUser(undefined).getId()).toThrow(TypeError);
  });

  it("compares by id between mixins only", () => {
    const first = new ImplicitIdUser(1);
    const same = new ImplicitIdUser(1);
    const sameAsString = new ImplicitIdUser("1");
    const different = new ImplicitIdUser(2);
    expect(first.equals(same)).toBe(true);
    expect(first.equals(sameAsString)).toBe(true);
    expect(first.equals(different)).toBe(false);
    expect(first.equals("1")).toBe(false);
    expect(first.equals({ id: 1, getId: () => "1" })).toBe(false);
    expect(first.equals(null)).toBe(false);
  });

  it("keys Maps and Sets by identity (Python's object.__hash__), not by id", () => {
    const first = new ImplicitIdUser(1);
    const same = new ImplicitIdUser(1);
    const set = new Set([first, same, first]);
    expect(set.size).toBe(2);
    const map = new Map([[first, "a"]]);
    expect(map.get(same)).toBeUndefined();
    expect(map.get(first)).toBe("a");
  });
});

describe("AnonymousUserMixin (Flask-Login test_values, item 67)", () => {
  it("is anonymous, inactive, unauthenticated and has a null id", () => {
    const user = new AnonymousUserMixin();
    expect(user.isActive).toBe(false);
    expect(user.isAuthenticated).toBe(false);
    expect(user.isAnonymous).toBe(true);
    expect(user.getId()).toBeNull();
  });
});
