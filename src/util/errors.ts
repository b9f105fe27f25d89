// Typed errors. Every message names the offending value and what was expected, so a user can fix
// the call without reading our source. Library code throws these; only cli/ prints or exits.

/** Base class: `instanceof DissectError` catches everything dissect throws on purpose. */
export class DissectError extends Error {
  override name = 'DissectError';
}

/** Shapes that cannot be combined (matmul inner dims, broadcast, reshape sizes, ...). */
export class ShapeError extends DissectError {
  override name = 'ShapeError';
}

/** A value outside its allowed range: an index, an axis, a token id, a k for topk. */
export class IndexError extends DissectError {
  override name = 'IndexError';
}

/** An operation got a tensor of a dtype it does not accept (e.g. float ids for an embedding). */
export class DTypeError extends DissectError {
  override name = 'DTypeError';
}

/** A tensor (or model, or backend) was used after `dispose()`. */
export class UseAfterFreeError extends DissectError {
  override name = 'UseAfterFreeError';
}

/** An argument of the wrong kind or value that is not a shape, range or dtype problem. */
export class ArgumentError extends DissectError {
  override name = 'ArgumentError';
}

/** A backend was asked for that does not exist or cannot run here. */
export class BackendError extends DissectError {
  override name = 'BackendError';
}

/** Autograd misuse: backward on a non-scalar without a seed, grad of a tensor not in the graph... */
export class GradError extends DissectError {
  override name = 'GradError';
}

/** A file or stream whose content is not what its format promises (safetensors, tokenizer.json). */
export class FormatError extends DissectError {
  override name = 'FormatError';
}

/** Network or file-system failures with the path or URL involved. */
export class IOError extends DissectError {
  override name = 'IOError';
}

/** Format a shape for messages: [2, 3, 4]. */
export function fmtShape(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}
