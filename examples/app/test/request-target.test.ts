import { describe, expect, it } from "vitest";
import { isBadRequestTarget } from "../src/web/http.js";

describe("isBadRequestTarget: what every framework answers with the 400 page before routing [issue 16.9]", () => {
  it.each([
    "*",
    "127.0.0.1:5000",
    "login",
    "",
    "/x/../protected",
    "/x/..",
    "/./login",
    "/x/%2e%2e/protected",
    "/x/%2E./protected",
    "/x/.%2e/protected",
    "/static/../healthz",
    "/x\\..\\protected",
    "/login\\",
    "/%E0%A4%A",
    "http://host/x/../protected",
    "http://host?x",
  ])("refuses %j", (target) => {
    expect(isBadRequestTarget(target)).toBe(true);
  });

  it.each([
    "/",
    "/login",
    "/login?next=%2Fprotected",
    "/login?next=/a/../b",
    "/login?next=a\\b",
    "/a..b/c.d/...",
    "/.well-known/x",
    "/static/style.css",
    "http://host",
    "https://host:8443/login?x=1",
  ])("accepts %j", (target) => {
    expect(isBadRequestTarget(target)).toBe(false);
  });
});
