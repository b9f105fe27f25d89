// EncodedArray's base64 against Node's Buffer (an independent implementation), on every length
// remainder and on float32 edge values.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ArgumentError, Rng } from '../../src/index.js';
import { base64ToBytes, bytesToBase64, decodeFloat32, encodeFloat32 } from '../../src/api/index.js';

describe('api encoding', () => {
  it('base64 equals Buffer\'s for lengths 0..40 and one large array, and decodes back', () => {
    const rng = new Rng(1);
    for (const length of [...Array.from({ length: 41 }, (_, i) => i), 3 * 4096 + 1, 100_003]) {
      const bytes = Uint8Array.from({ length }, () => rng.int(0, 256));
      const text = bytesToBase64(bytes);
      assert.equal(text, Buffer.from(bytes).toString('base64'), `length ${length}`);
      assert.deepEqual(base64ToBytes(text), bytes);
    }
  });

  it('float32 arrays round-trip exactly, NaN, infinities and -0 included', () => {
    const values = Float32Array.from([0, -0, 1.5, -3.25e-38, 3.4e38, Number.NaN, Infinity, -Infinity, Math.PI]);
    const encoded = encodeFloat32(values, [3, 3], ['row', 'column']);
    assert.deepEqual(encoded.shape, [3, 3]);
    assert.equal(encoded.data, Buffer.from(values.buffer).toString('base64'));
    const decoded = decodeFloat32(JSON.parse(JSON.stringify(encoded)));
    assert.deepEqual(new Uint8Array(decoded.buffer, decoded.byteOffset, decoded.byteLength), new Uint8Array(values.buffer));
  });

  it('rejects malformed input with messages that name the problem', () => {
    assert.throws(() => base64ToBytes('abc'), (err: unknown) => err instanceof ArgumentError && /divisible by 4/.test(err.message));
    assert.throws(() => base64ToBytes('ab!='), (err: unknown) => err instanceof ArgumentError && /"!"/.test(err.message));
    assert.throws(() => encodeFloat32(new Float32Array(5), [2, 3], ['a', 'b']), ArgumentError);
    assert.throws(() => decodeFloat32({ dtype: 'float32', shape: [3], axes: ['x'], data: bytesToBase64(new Uint8Array(8)) }), /8 bytes/);
  });
});
