// readBytesInto: raw bytes straight into a caller's buffer (how weights reach backend memory).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { openSafetensors, openSafetensorsBytes } from '../../src/io/safetensors.js';
import { ShapeError, UseAfterFreeError } from '../../src/util/errors.js';
import { sharedFixtures } from './fixture-paths.js';

const path = join(sharedFixtures, 'llama-tiny', 'model.safetensors');

test('readBytesInto fills the target with exactly the bytes readBytes returns (file and memory sources)', async () => {
  const file = await openSafetensors(path);
  const memory = openSafetensorsBytes(new Uint8Array(await readFile(path)));
  for (const name of file.names()) {
    const expected = await file.readBytes(name);
    for (const source of [file, memory]) {
      const target = new Uint8Array(expected.byteLength + 16).subarray(8, 8 + expected.byteLength);
      await source.readBytesInto(name, target);
      assert.deepEqual(target, expected, name);
    }
  }
  await file.close();
});

test('readBytesInto rejects a target of the wrong length and reads after close', async () => {
  const file = await openSafetensors(path);
  const name = file.names()[0];
  const bytes = (await file.readBytes(name)).byteLength;
  await assert.rejects(file.readBytesInto(name, new Uint8Array(bytes - 4)), (err: Error) =>
    err instanceof ShapeError && err.message.includes(`${bytes} bytes`));
  await file.close();
  await assert.rejects(file.readBytesInto(name, new Uint8Array(bytes)), UseAfterFreeError);
});
