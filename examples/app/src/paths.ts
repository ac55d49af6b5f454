import { fileURLToPath } from "node:url";

// This file is src/paths.ts, compiled to dist/paths.js: one level below the app's folder either way,
// so `node examples/app/dist/server.js` and `tsx examples/app/src/server.ts` find the same files.
const appRoot = fileURLToPath(new URL("..", import.meta.url));

/** Folders the app reads at run time, resolved from the app's own folder (not the working directory). */
export const paths = {
  /** Eta templates. */
  views: `${appRoot}src/views`,
  /** Stylesheet and icons, served under /static. */
  public: `${appRoot}public`,
} as const;
