// Reference-counted ownership of one backend buffer. Every Tensor (a view or not) holds one
// reference; autograd's saved tensors hold their own. The buffer goes back to the backend when
// the last reference is released, so disposing a tensor never invalidates a view of it.

import type { Backend, Storage } from '../backend/types.js';

export class SharedStorage {
  /** Live references: tensors and saved-for-backward aliases that point into this buffer. */
  private refs = 0;
  /** Bumped by in-place writes, so autograd can tell that a saved tensor changed under it. */
  version = 0;

  constructor(readonly backend: Backend, readonly storage: Storage) {}

  retain(): void {
    this.refs++;
  }

  release(): void {
    if (--this.refs === 0) this.backend.free(this.storage);
  }

  get references(): number {
    return this.refs;
  }
}
