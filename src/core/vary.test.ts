import { describe, expect, it } from "vitest";
import { mergeVary } from "./vary.js";

describe("mergeVary", () => {
  it.each([undefined, null, "", "   ", ",", " , ,", []])(
    "gives just the field when there is no Vary (%j)",
    (existing) => {
      expect(mergeVary(existing, "Cookie")).toBe("Cookie");
    },
  );

  it("adds the field after the fields already there, keeping them as written", () => {
    expect(mergeVary("Accept-Encoding", "Cookie")).toBe("Accept-Encoding, Cookie");
    expect(mergeVary("Accept-Encoding,Origin", "Cookie")).toBe("Accept-Encoding,Origin, Cookie");
  });

  it("drops trailing commas and spaces before adding the field", () => {
    expect(mergeVary("Accept-Encoding , ", "Cookie")).toBe("Accept-Encoding, Cookie");
  });

  it.each([
    "Cookie",
    "cookie",
    "COOKIE",
    "Accept-Encoding, Cookie",
    "cookie,Accept-Encoding",
    "Accept-Encoding ,\tcookie\t, Origin",
  ])("does not add a field already listed in any case or spacing (%j)", (existing) => {
    expect(mergeVary(existing, "Cookie")).toBe(existing);
  });

  it("does not mistake a longer or shorter field name for the field", () => {
    expect(mergeVary("Cookies", "Cookie")).toBe("Cookies, Cookie");
    expect(mergeVary("Cooki", "Cookie")).toBe("Cooki, Cookie");
    expect(mergeVary("Set-Cookie", "Cookie")).toBe("Set-Cookie, Cookie");
  });

  it.each(["*", " * ", "Accept, *"])("leaves a Vary with * alone (%j)", (existing) => {
    expect(mergeVary(existing, "Cookie")).toBe(existing);
  });

  it("reads a header Node reports as a list of values", () => {
    expect(mergeVary(["Accept-Encoding", "Origin"], "Cookie")).toBe("Accept-Encoding, Origin, Cookie");
    expect(mergeVary(["Accept-Encoding", "cookie"], "Cookie")).toBe("Accept-Encoding, cookie");
  });

  it("adds to its own result without duplicating", () => {
    const once = mergeVary("Origin", "Cookie");
    expect(mergeVary(once, "Cookie")).toBe(once);
  });
});
