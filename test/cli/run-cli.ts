// Runs the built CLI (dist/src/cli/main.js) as a child process, as a user would.
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { repoRoot } from '../io/fixture-paths.js';

export const CLI = join(repoRoot, 'dist', 'src', 'cli', 'main.js');
export const GPT2_TOKENIZER = join(repoRoot, 'assets', 'tokenizers', 'gpt2', 'tokenizer.json');

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export function dissect(args: readonly string[], env: Record<string, string | undefined> = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [CLI, ...args], { env: { ...process.env, ...env }, timeout: 60_000, maxBuffer: 64 << 20 },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === 'number' ? error.code : -1;
        if (error !== null && typeof error.code !== 'number') reject(error);
        else resolve({ code, stdout, stderr });
      });
  });
}

/** A failed run: non-zero exit, no stack trace, and a single stderr line matching `message`. */
export function assertCleanFailure(result: CliResult, message: RegExp, code?: number): void {
  const detail = `exit ${result.code}\nstderr: ${result.stderr}`;
  if (result.code === 0 || (code !== undefined && result.code !== code)) throw new Error(`expected exit ${code ?? 'non-zero'}; ${detail}`);
  if (/^\s+at /m.test(result.stderr)) throw new Error(`a stack trace was printed: ${detail}`);
  const matching = result.stderr.split('\n').filter((line) => message.test(line));
  if (matching.length !== 1 || !matching[0].startsWith('dissect: ')) throw new Error(`expected one 'dissect: ' line matching ${message}; ${detail}`);
}
