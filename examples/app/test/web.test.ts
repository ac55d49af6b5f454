import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import express from "express";
import request from "supertest";
import { afterAll, describe, expect, it } from "vitest";
import { BodyError, bodyKind, parseForm, parseJson } from "../src/web/body.js";
import { field, isMalformedPath, normalizePath, prefersJson, queryParam } from "../src/web/http.js";
import { loadStaticFiles } from "../src/web/static.js";

describe("prefersJson", () => {
  // Express's own negotiation, which the error pages followed before they were shared.
  const negotiator = express().get("/", (req, res) => {
    res.send(String(req.accepts(["html", "json"])));
  });

  it.each([
    undefined,
    "",
    "*/*",
    "application/json",
    "text/html",
    "application/json, text/html",
    "text/html, application/json",
    "application/json, */*",
    "*/*, application/json",
    "text/html;q=0.5, application/json",
    "application/json;q=0.5, text/html",
    "application/json;q=0.9, */*;q=0.1",
    "text/*, application/json",
    "application/*",
    "application/json;q=0",
    "text/html;q=0, application/json;q=0",
    "image/png",
    "application/json, text/html;q=1",
    "text/html;level=1;q=0.5, application/json;q=0.5",
    "*/*;q=0.8, application/json;q=0.8",
    "text/html;charset=*, application/json",
    "application/json;q=0.5;foo=bar, text/html;q=0.1",
    "application/json;q=abc",
  ])("decides like Express's req.accepts for Accept %j", async (accept) => {
    const test = request(negotiator).get("/");
    if (accept !== undefined) test.set("accept", accept);
    const expressChoice = (await test).text;
    expect(prefersJson(accept)).toBe(expressChoice === "json");
  });
});

describe("bodyKind", () => {
  const headers = (
    contentType: string | undefined,
    extra: { contentEncoding?: string; contentLength?: string; transferEncoding?: string } = {},
  ) => ({
    contentType,
    contentEncoding: extra.contentEncoding,
    contentLength: extra.contentLength ?? "3",
    transferEncoding: extra.transferEncoding,
  });

  it("reads forms and JSON in UTF-8", () => {
    expect(bodyKind(headers("application/x-www-form-urlencoded"))).toBe("form");
    expect(bodyKind(headers("application/x-www-form-urlencoded; charset=UTF-8"))).toBe("form");
    expect(bodyKind(headers('application/json; charset="utf-8"'))).toBe("json");
    expect(
      bodyKind({ ...headers("application/json"), contentLength: undefined, transferEncoding: "chunked" }),
    ).toBe("json");
  });

  it("sees no body without a length or with length 0, whatever the type", () => {
    expect(bodyKind(headers("text/plain", { contentLength: "0" }))).toBe("none");
    expect(bodyKind({ ...headers(undefined), contentLength: undefined })).toBe("none");
  });

  it.each([
    ["text/plain", {}],
    ["multipart/form-data; boundary=x", {}],
    [undefined, {}],
    ["application/x-www-form-urlencoded; charset=iso-8859-1", {}],
    ["application/json; charset=utf-16", {}],
    ["application/x-www-form-urlencoded", { contentEncoding: "gzip" }],
  ] as const)("refuses %j %j with 415", (type, extra) => {
    const kind = bodyKind(headers(type, extra));
    expect(kind).toBeInstanceOf(BodyError);
    expect((kind as BodyError).status).toBe(415);
  });
});

describe("parseForm", () => {
  it("decodes like Express: + is a space, repeats become arrays, bad escapes stay as typed", () => {
    const form = parseForm("a=1+2&b=%C3%A9&b=x&c&d=%E0%A4%A&=e");
    expect({ ...form }).toEqual({ a: "1 2", b: ["é", "x"], c: "", d: "%E0%A4%A", "": "e" });
    expect(Object.getPrototypeOf(form)).toBeNull();
  });

  it("allows 100 fields and refuses 101 with 413", () => {
    const fields = (count: number) => Array.from({ length: count }, (_, i) => `f${i}=1`).join("&");
    expect(Object.keys(parseForm(fields(100)))).toHaveLength(100);
    expect(() => parseForm(fields(101))).toThrow(expect.objectContaining({ status: 413 }));
  });
});

describe("parseJson", () => {
  it("reads an empty body as {} and objects or arrays as they are", () => {
    expect(parseJson("")).toEqual({});
    expect(parseJson(' \n{"a":1}')).toEqual({ a: 1 });
    expect(parseJson("[1]")).toEqual([1]);
  });

  it.each(['"text"', "12", "null", "{", " ", "{'a':1}"])("refuses %j with 400", (text) => {
    expect(() => parseJson(text)).toThrow(expect.objectContaining({ status: 400 }));
  });
});

describe("URLs", () => {
  it("normalises escaped unreserved characters in the path only", () => {
    expect(normalizePath("/log%69n?next=%2F%61")).toBe("/login?next=%2F%61");
    expect(normalizePath("/a%2Fb%20c%7e")).toBe("/a%2Fb%20c~");
  });

  it("spots paths that cannot be decoded, not queries", () => {
    expect(isMalformedPath("/account/sessions/%E0%A4%A/revoke")).toBe(true);
    expect(isMalformedPath("/100%")).toBe(true);
    expect(isMalformedPath("/login?next=%")).toBe(false);
  });

  it("reads a query parameter only when it appears once", () => {
    expect(queryParam("/login?next=%2Fprotected", "next")).toBe("/protected");
    expect(queryParam("/login?next=a&next=b", "next")).toBeUndefined();
    expect(queryParam("/login", "next")).toBeUndefined();
  });

  it("reads a form field only when it is one string", () => {
    const body = { a: "x", b: ["x", "y"], c: { d: "x" }, e: 1 };
    expect(["a", "b", "c", "e", "missing", "toString"].map((name) => field({ body }, name))).toEqual([
      "x",
      "",
      "",
      "",
      "",
      "",
    ]);
    expect(field({ body: undefined }, "a")).toBe("");
  });
});

describe("static files", () => {
  const dir = mkdtempSync(join(tmpdir(), "lm-static-"));
  writeFileSync(join(dir, "site.css"), "body{}");
  writeFileSync(join(dir, "notes.txt"), "private");
  const files = loadStaticFiles(dir);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("serves known types by exact name, with an ETag and an hour of caching", () => {
    const css = files.serve("/static/site.css?v=1", undefined);
    expect(css?.status).toBe(200);
    expect(css?.headers).toMatchObject({
      "content-type": "text/css; charset=utf-8",
      "cache-control": "public, max-age=3600",
    });
    expect(String(css?.body)).toBe("body{}");
    expect(css?.headers.etag).toMatch(/^"[\w-]{22}"$/);
  });

  it("answers 304 to a matching If-None-Match", () => {
    const etag = files.serve("/static/site.css", undefined)?.headers.etag ?? "";
    expect(files.serve("/static/site.css", `W/${etag}`)?.status).toBe(304);
    expect(files.serve("/static/site.css", '"other", *')?.status).toBe(304);
    expect(files.serve("/static/site.css", '"other"')?.status).toBe(200);
  });

  it("serves nothing else: other types, other names, paths", () => {
    for (const url of ["/static/notes.txt", "/static/SITE.css", "/static/../site.css", "/static/site%2Ecss"])
      expect(files.serve(url, undefined)).toBeUndefined();
  });
});
