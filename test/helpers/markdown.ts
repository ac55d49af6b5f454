import { readFileSync } from "node:fs";

/**
 * The body of the fenced block marked `ts file=<file>` in a markdown file, exactly as written.
 * Fences of three or more backticks are accepted (a formatter lengthens the fence when the code
 * itself contains backticks); the block ends at a line holding the same fence.
 */
export function fencedFileBlock(markdownPath: URL, file: string): string {
  const markdown = readFileSync(markdownPath, "utf8");
  const opening = new RegExp(`^(\`{3,})ts file=${file.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")}\\n`, "m").exec(
    markdown,
  );
  if (!opening?.[1]) throw new Error(`${markdownPath.pathname} has no block for ${file}`);
  const bodyStart = opening.index + opening[0].length;
  const end = markdown.indexOf(`\n${opening[1]}\n`, bodyStart);
  if (end === -1) throw new Error(`${markdownPath.pathname}: the block for ${file} is not closed`);
  return markdown.slice(bodyStart, end + 1);
}
