import { readFileSync } from "node:fs";

/** One fenced code block of a markdown file. */
export interface FencedBlock {
  /** What follows the opening fence: `ts`, `sh`, `ts file=examples/app.ts`. */
  info: string;
  /** The block's text exactly as written, ending with a newline. */
  body: string;
}

/**
 * Every fenced block of a markdown text, in order. Fences of three or more backticks are accepted
 * (a formatter lengthens the fence when the code itself contains backticks); a block ends at a line
 * holding the same fence.
 *
 * @example
 * ```ts
 * const shell = fencedBlocks(readFileSync("docs/guides/express.md", "utf8")).filter((b) => b.info === "sh");
 * ```
 */
export function fencedBlocks(markdown: string): FencedBlock[] {
  const blocks: FencedBlock[] = [];
  const opening = /^(`{3,})([^`\n]*)\n/gm;
  for (let match = opening.exec(markdown); match; match = opening.exec(markdown)) {
    const fence = match[1] ?? "```";
    const bodyStart = match.index + match[0].length;
    const end = markdown.indexOf(`\n${fence}\n`, bodyStart - 1);
    if (end === -1) throw new Error(`a ${fence}${match[2]} block is not closed`);
    blocks.push({ info: (match[2] ?? "").trim(), body: markdown.slice(bodyStart, end + 1) });
    opening.lastIndex = end + fence.length + 2;
  }
  return blocks;
}

/**
 * The body of the fenced block marked `ts file=<file>` in a markdown file, exactly as written.
 *
 * @example
 * ```ts
 * const code = fencedFileBlock(new URL("../../README.md", import.meta.url), "examples/tutorial/app.ts");
 * ```
 */
export function fencedFileBlock(markdownPath: URL, file: string): string {
  const blocks = fencedBlocks(readFileSync(markdownPath, "utf8"));
  const block = blocks.find((candidate) => candidate.info === `ts file=${file}`);
  if (!block) throw new Error(`${markdownPath.pathname} has no block for ${file}`);
  return block.body;
}
