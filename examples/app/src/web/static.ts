import { createHash } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import { extname, join } from "node:path";
import { pathOf, type WebResponse } from "./http.js";

/** URL prefix of the static files. */
export const STATIC_PREFIX = "/static/";

/** The file types served, by extension; any other file in the folder is not served. */
const CONTENT_TYPES: Readonly<Record<string, string>> = {
  ".css": "text/css; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".ico": "image/x-icon",
  ".woff2": "font/woff2",
};

/** Browsers may keep a file an hour without asking; after that the ETag makes the check a 304. */
const CACHE_CONTROL = "public, max-age=3600";

interface StaticFile {
  body: Buffer;
  contentType: string;
  etag: string;
}

/**
 * The stylesheet, icons and page scripts, read once at start-up and served from memory by exact name: no
 * directory listing, no path tricks, no session work. The same rules on every framework.
 */
export interface StaticFiles {
  /**
   * The answer to a GET or HEAD of `url` (which starts with {@link STATIC_PREFIX}): the file with
   * its content type, cache headers and ETag, a 304 when `ifNoneMatch` matches, or undefined when
   * there is no such file.
   */
  serve(url: string, ifNoneMatch: string | undefined): WebResponse | undefined;
}

/**
 * Loads the files directly in `dir` (not in subfolders) whose type is known.
 *
 * @example
 * ```ts
 * const files = loadStaticFiles(paths.public);
 * files.serve("/static/style.css", undefined)?.status; // 200
 * ```
 */
export function loadStaticFiles(dir: string): StaticFiles {
  const files = new Map<string, StaticFile>();
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const contentType = CONTENT_TYPES[extname(entry.name).toLowerCase()];
    if (!entry.isFile() || !contentType) continue;
    const body = readFileSync(join(dir, entry.name));
    const etag = `"${createHash("sha256").update(body).digest("base64url").slice(0, 22)}"`;
    files.set(entry.name, { body, contentType, etag });
  }
  return {
    serve(url, ifNoneMatch) {
      const file = files.get(pathOf(url).slice(STATIC_PREFIX.length));
      if (!file) return undefined;
      const headers = { "cache-control": CACHE_CONTROL, etag: file.etag };
      if (ifNoneMatch !== undefined && etagMatches(ifNoneMatch, file.etag)) {
        return { status: 304, headers, body: "" };
      }
      return { status: 200, headers: { ...headers, "content-type": file.contentType }, body: file.body };
    },
  };
}

/** If-None-Match's weak comparison: `*`, or any listed tag equal to `etag` ignoring `W/`. */
function etagMatches(ifNoneMatch: string, etag: string): boolean {
  return ifNoneMatch
    .split(",")
    .map((tag) => tag.trim().replace(/^W\//, ""))
    .some((tag) => tag === "*" || tag === etag);
}
