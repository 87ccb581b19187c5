// When each commit was made, from the checkout's git history: the history's order. A commit this
// checkout does not have (measured on another branch, or history rewritten) has no date here.
import { execFileSync } from "node:child_process";

export function commitDate(commit: string, cwd: string = process.cwd()): string | null {
  if (!/^[0-9a-f]{7,40}$/.test(commit)) return null;
  try {
    return execFileSync("git", ["show", "-s", "--format=%cI", commit], { cwd, encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim() || null;
  } catch {
    return null;
  }
}
