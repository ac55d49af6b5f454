import { pathToFileURL } from "node:url";

// Runs before `npm start` (and the other app scripts) on whatever Node the user has: plain JavaScript,
// no imports that an old Node lacks, so an unsupported version gets one clear line, not a stack trace.

/** The Node.js lines login-manager supports, as package.json's `engines` states them. */
export const SUPPORTED = "Node.js 22 (22.13 or newer), 24 or 26+";

/**
 * Whether a Node version (as `process.versions.node` gives it) is supported: 22.13+, 24.x, 26+.
 *
 * @example
 * ```js
 * isSupportedNode("24.21.0"); // true
 * isSupportedNode("20.20.2"); // false
 * ```
 */
export function isSupportedNode(version) {
  const [major, minor] = String(version).split(".").map(Number);
  if (!Number.isInteger(major) || !Number.isInteger(minor)) return false;
  if (major === 22) return minor >= 13;
  return major === 24 || major >= 26;
}

/**
 * The one line printed for an unsupported Node, or `null` when the version is supported.
 *
 * @example
 * ```js
 * unsupportedNodeMessage("20.20.2"); // "login-manager needs Node.js 22.13 or newer ..."
 * ```
 */
export function unsupportedNodeMessage(version) {
  if (isSupportedNode(version)) return null;
  return `login-manager needs ${SUPPORTED}; this is Node.js ${version}. Install a supported version (https://nodejs.org/en/about/previous-releases) and run the command again.`;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const message = unsupportedNodeMessage(process.versions.node);
  if (message !== null) {
    console.error(message);
    process.exit(1);
  }
}
