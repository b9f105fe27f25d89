// One in-flight request per view: fetch(key, call) starts a call unless the same key is already
// shown or loading; a new key aborts the previous call, and only the latest call's answer is shown.

import { isAbort } from '../client/client.js';

export class Fetcher<T> {
  private key: string | null = null;
  private controller: AbortController | null = null;

  constructor(private readonly handlers: {
    result(value: T): void;
    error(message: string): void;
    busy?(busy: boolean): void;
  }) {}

  fetch(key: string, call: (signal: AbortSignal) => Promise<T>): void {
    if (key === this.key) return;
    this.key = key;
    this.controller?.abort();
    const controller = new AbortController();
    this.controller = controller;
    this.handlers.busy?.(true);
    call(controller.signal).then(
      (value) => {
        if (controller === this.controller) this.handlers.result(value);
      },
      (err: unknown) => {
        if (controller !== this.controller) return;
        this.key = null; // a failed request may be retried with the same inputs
        if (!isAbort(err)) this.handlers.error((err as Error).message);
      },
    ).finally(() => {
      if (controller === this.controller) {
        this.controller = null;
        this.handlers.busy?.(false);
      }
    });
  }

  /** Forget what is shown (the next fetch runs whatever its key) and abort what is running. */
  reset(): void {
    this.key = null;
    this.controller?.abort();
    this.controller = null;
  }
}
