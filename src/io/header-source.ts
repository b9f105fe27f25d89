// What every single-file safetensors source answers from its parsed header alone (names, dtypes,
// shapes, metadata); subclasses add how the bytes are read (a file handle, or memory).

import type { SafetensorsHeader, TensorInfo } from './safetensors-header.js';
import { missingTensorError } from './tensor-source.js';

export abstract class HeaderBackedSource {
  constructor(protected readonly header: SafetensorsHeader, readonly label: string) {}

  get metadata(): Readonly<Record<string, string>> {
    return this.header.metadata;
  }

  names(): string[] {
    return this.header.tensors.map((t) => t.name);
  }

  has(name: string): boolean {
    return this.header.byName.has(name);
  }

  info(name: string): TensorInfo {
    const info = this.header.byName.get(name);
    if (!info) throw missingTensorError(name, this.names(), this.label);
    return info;
  }
}
