// How the tensor-core attention passes take K and V (gpu/tensorcore/attention.ts kvTypeOf): f16
// (read as they are) or f32 (rounded as staged), both alike, f16 only at d % 8 == 0; and the
// generator refuses f16 K / V at other head dims. No GPU: these checks run before any dispatch.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { kvTypeOf, qTypeOf } from '../../gpu/tensorcore/attention';
import { flashSource } from '../../gpu/tensorcore/flash';
import type { Tensor } from '../../gpu/tensor';

// A tensor record without a buffer: kvTypeOf reads only label, shape and dtype.
const rec = (label: string, d: number, dtype?: 'f32' | 'f16'): Tensor => ({ label, shape: [2, 5, d], dtype, buffer: undefined as unknown as GPUBuffer });

test('kvTypeOf: f32 by default, f16 when both are f16 at d % 8 == 0', () => {
  assert.equal(kvTypeOf('t', 64, rec('k', 64), rec('v', 64)), 'f32');
  assert.equal(kvTypeOf('t', 64, rec('k', 64, 'f16'), rec('v', 64, 'f16')), 'f16');
  assert.equal(kvTypeOf('t', 40, rec('k', 40, 'f16')), 'f16'); // no v: the lse-only pass
});

test('kvTypeOf names a k / v dtype mismatch and an f16 head dim that is not a multiple of 8', () => {
  assert.throws(() => kvTypeOf('f16 dense attention', 64, rec('k', 64, 'f16'), rec('v', 64)), /f16 dense attention: k k is f16 but v v is f32; give both as f16 or both as f32/);
  assert.throws(() => kvTypeOf('f16 stage 1', 36, rec('k', 36, 'f16')), /f16 stage 1: f16 k and v need a head dimension that is a multiple of 8 .* d is 36/);
});

test('qTypeOf: an f16 q only at d % 8 == 0', () => {
  assert.equal(qTypeOf('t', 64, rec('q', 64, 'f16')), 'f16');
  assert.equal(qTypeOf('t', 36, rec('q', 36)), 'f32');
  assert.throws(() => qTypeOf('f16 stage 1', 36, rec('q', 36, 'f16')), /f16 stage 1: an f16 q needs a head dimension that is a multiple of 8 .* d is 36/);
});

test('flashSource: f16 q / K / V bind packed halves and refuse d % 8 != 0', () => {
  const src = flashSource(64, 'dense', true, 'emulated', { nsg: 4, bkt: 32 }, 1, 'f16');
  assert.match(src, /var<storage, read> k: array<vec4<u32>>;/);
  assert.match(src, /var<storage, read> q: array<vec4<f32>>;/);
  assert.match(flashSource(64, 'rows', false, 'emulated', { nsg: 4, bkt: 32 }, 1, 'f16', 'f16'), /var<storage, read> q: array<vec4<u32>>;/);
  assert.doesNotMatch(flashSource(64, 'dense', true, 'emulated', { nsg: 4, bkt: 32 }), /var<storage, read> k: array<vec4<u32>>/);
  assert.throws(() => flashSource(36, 'dense', true, 'emulated', { nsg: 4, bkt: 32 }, 1, 'f16'), /f16 q \/ K \/ V need a head dimension that is a multiple of 8/);
});
