// ApiError: an error with a protocol type (and so an HTTP status), and the mapping from whatever a
// handler throws — the library's typed errors, an abort, a bug — to one.

import {
  ArgumentError, BackendError, DTypeError, DissectError, FormatError, GradError, IOError, IndexError, ShapeError,
  UseAfterFreeError,
} from '../index.js';
import { ERROR_STATUS, type ApiErrorBody, type ApiErrorType } from './protocol.js';

export class ApiError extends DissectError {
  override name = 'ApiError';

  constructor(readonly type: ApiErrorType, message: string, readonly field?: string) {
    super(message);
  }

  get status(): number {
    return ERROR_STATUS[this.type];
  }

  toBody(): ApiErrorBody {
    return { error: { type: this.type, message: this.message, ...(this.field === undefined ? {} : { field: this.field }) } };
  }
}

export function badRequest(field: string | undefined, message: string): ApiError {
  return new ApiError('bad_request', message, field);
}

function isAbort(err: unknown): boolean {
  return err instanceof Error && (err.name === 'AbortError' || err.name === 'TimeoutError');
}

/**
 * The ApiError for anything a handler throws. The library's argument errors (bad ids, positions,
 * layers, shapes) are the client's fault: 400. Broken files, backends and other failures are the
 * server's: 500, with the message kept so the cause is visible.
 */
export function toApiError(err: unknown): ApiError {
  if (err instanceof ApiError) return err;
  if (isAbort(err)) return new ApiError('aborted', 'the request was aborted');
  if (err instanceof ArgumentError || err instanceof IndexError || err instanceof ShapeError || err instanceof DTypeError) {
    return new ApiError('bad_request', err.message);
  }
  if (err instanceof FormatError || err instanceof IOError || err instanceof BackendError || err instanceof GradError
    || err instanceof UseAfterFreeError || err instanceof DissectError) {
    return new ApiError('internal', `${err.name}: ${err.message}`);
  }
  const message = err instanceof Error ? `${err.name}: ${err.message}` : `unexpected failure: ${String(err)}`;
  return new ApiError('internal', message);
}

/** Throws ApiError 'aborted' when the signal has fired (handlers call it between units of work). */
export function checkAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new ApiError('aborted', 'the request was aborted');
}
