// What one validation check reports: the verdict, a one-line summary, and the numbers behind it.

export type CheckStatus = 'pass' | 'fail' | 'skipped';

export interface ValidationCheck {
  organism: string;
  method: string;
  status: CheckStatus;
  /** One line: what was measured against what was expected. */
  summary: string;
  /** The measured numbers the verdict rests on. */
  numbers: Record<string, number>;
}

export function fmt(x: number): string {
  return x.toFixed(3);
}
