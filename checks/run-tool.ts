import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = fileURLToPath(new URL('..', import.meta.url));

export interface ToolResult {
  code: number | null;
  output: string;
}

/** Runs a repository tool from the root (its bin from node_modules/.bin) and keeps stdout + stderr together. */
export function runTool(bin: string, args: string[]): Promise<ToolResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(`${REPO_ROOT}node_modules/.bin/${bin}`, args, {
      cwd: REPO_ROOT,
      env: { ...process.env, FORCE_COLOR: '0', NO_COLOR: '1' },
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, output }));
  });
}

/** The tool's output, capped so a failing check's message stays readable in the report. */
export function excerpt(output: string, maxLines = 80): string {
  const lines = output.trimEnd().split('\n');
  return lines.length <= maxLines
    ? lines.join('\n')
    : [...lines.slice(0, maxLines), `… ${lines.length - maxLines} more lines`].join('\n');
}
