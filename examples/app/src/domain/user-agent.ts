const BROWSERS: ReadonlyArray<readonly [name: string, pattern: RegExp]> = [
  ["Edge", /\bEdg(?:e|A|iOS)?\/(\d+)/],
  ["Opera", /\bOPR\/(\d+)/],
  ["Samsung Internet", /\bSamsungBrowser\/(\d+)/],
  ["Firefox", /\b(?:Firefox|FxiOS)\/(\d+)/],
  ["Headless Chrome", /\bHeadlessChrome\/(\d+)/],
  ["Chrome", /\b(?:Chrome|CriOS)\/(\d+)/],
  ["Safari", /\bVersion\/(\d+)[^ ]* (?:Mobile\/\S+ )?Safari\//],
  ["curl", /^curl\/(\d+(?:\.\d+)?)/],
];

const SYSTEMS: ReadonlyArray<readonly [name: string, pattern: RegExp]> = [
  ["iPhone", /\biPhone\b/],
  ["iPad", /\biPad\b/],
  ["Android", /\bAndroid\b/],
  ["ChromeOS", /\bCrOS\b/],
  ["Windows", /\bWindows\b/],
  ["macOS", /\bMac OS X\b|\bMacintosh\b/],
  ["Linux", /\bLinux\b/],
];

/**
 * A short, readable summary of a User-Agent for a "your sessions" list: browser, major version and
 * operating system, or the first product token of other clients.
 *
 * @example
 * ```ts
 * describeUserAgent("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/126.0.0.0 Safari/537.36");
 * // "Chrome 126 on Linux"
 * describeUserAgent(""); // "Unknown device"
 * ```
 */
export function describeUserAgent(userAgent: string): string {
  const agent = userAgent.trim();
  if (agent === "") return "Unknown device";
  const system = SYSTEMS.find(([, pattern]) => pattern.test(agent))?.[0];
  for (const [name, pattern] of BROWSERS) {
    const match = pattern.exec(agent);
    if (match) return system ? `${name} ${match[1]} on ${system}` : `${name} ${match[1]}`;
  }
  if (system) return `Browser on ${system}`;
  const product = /^[A-Za-z][\w.-]{0,30}(?:\/[\w.]{1,15})?/.exec(agent)?.[0];
  return product ? product.replace("/", " ") : "Unknown device";
}
