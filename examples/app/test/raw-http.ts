/**
 * A raw HTTP/1.x client for requests that HTTP libraries normalise or refuse to send (a
 * request-target of `*`, a backslash in the path, no Host header, HTTP/1.0), reading back the status
 * and the headers.
 */
import { connect } from "node:net";

/** A response as read off the socket: status, and headers by lower-case name (repeated ones joined). */
export interface RawHttpResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/**
 * Sends `head` (request line and header lines, without the blank line) and `body` to the server at
 * `baseUrl`, with `Connection: close`, and reads the whole response.
 *
 * @example
 * ```ts
 * const res = await rawRequest(app.baseUrl, "GET * HTTP/1.1\r\nHost: 127.0.0.1");
 * ```
 */
export function rawRequest(baseUrl: string, head: string, body = ""): Promise<RawHttpResponse> {
  const { hostname, port } = new URL(baseUrl);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname, () => {
      socket.end(`${head}\r\nConnection: close\r\n\r\n${body}`);
    });
    const chunks: Buffer[] = [];
    socket.on("data", (chunk: Buffer) => chunks.push(chunk));
    socket.on("error", reject);
    socket.on("close", () => {
      try {
        resolve(parse(Buffer.concat(chunks).toString("latin1")));
      } catch (error) {
        reject(error);
      }
    });
  });
}

function parse(text: string): RawHttpResponse {
  const end = text.indexOf("\r\n\r\n");
  if (end === -1) throw new Error(`no complete response head in ${JSON.stringify(text.slice(0, 200))}`);
  const [statusLine = "", ...lines] = text.slice(0, end).split("\r\n");
  const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(statusLine)?.[1]);
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(":");
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    headers[name] = headers[name] === undefined ? value : `${headers[name]}, ${value}`;
  }
  return { status, headers, body: text.slice(end + 4) };
}
