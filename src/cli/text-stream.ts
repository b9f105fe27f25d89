// Turning a growing list of token ids into text printed once, piece by piece. Decoding each token
// alone is wrong twice over: a character split across byte-level tokens decodes to U+FFFD until
// its last byte arrives, and SentencePiece decoders drop the leading space of a sequence's first
// word. So we decode prompt + generated ids every step and print what the text gained, holding
// back a trailing U+FFFD until the next token completes (or finish() gives up on) it.

import type { Tokenizer } from '../index.js';

export class TextStream {
  private readonly generated: number[] = [];
  private readonly promptText: string;
  private printed = '';

  constructor(private readonly tokenizer: Tokenizer, private readonly prompt: readonly number[], private readonly write: (text: string) => void) {
    this.promptText = this.decode([]);
  }

  push(token: number): void {
    this.generated.push(token);
    this.flush(false);
  }

  /** Prints whatever is still held back. */
  finish(): void {
    this.flush(true);
  }

  private decode(generated: readonly number[]): string {
    return this.tokenizer.decode([...this.prompt, ...generated], { skipSpecialTokens: true });
  }

  private flush(final: boolean): void {
    const full = this.decode(this.generated);
    // Decoding is not always prefix-stable (clean-up rules); then fall back to the generated ids alone.
    const text = full.startsWith(this.promptText)
      ? full.slice(this.promptText.length)
      : this.tokenizer.decode(this.generated, { skipSpecialTokens: true });
    const ready = final ? text : text.replace(/\uFFFD+$/, '');
    if (!ready.startsWith(this.printed)) return; // an earlier piece changed meaning: print nothing new
    this.write(ready.slice(this.printed.length));
    this.printed = ready;
  }
}
