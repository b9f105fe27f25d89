// Where the CLI writes: results to stdout, progress and messages to stderr. Commands receive a
// Terminal rather than touching `process`, so the output a command produces is explicit.

export interface Terminal {
  /** Results (what a pipe should receive). */
  out(text: string): void;
  /** Progress, notices and errors. */
  err(text: string): void;
  /** Whether stderr is an interactive terminal (progress lines redraw in place only then). */
  readonly errIsTTY: boolean;
}

export const processTerminal: Terminal = {
  out: (text) => void process.stdout.write(text),
  err: (text) => void process.stderr.write(text),
  get errIsTTY() {
    return process.stderr.isTTY === true;
  },
};
