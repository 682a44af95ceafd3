import { test } from 'node:test';
import assert from 'node:assert/strict';
import { f16Bits, f16Overflow, toF16 } from '../../gpu/tensorcore/half';
import { f16ToNumber } from '../../gpu/forward/widen';

test('f16Bits inverts f16ToNumber on all 65536 patterns (NaNs stay NaN)', () => {
  for (let h = 0; h < 65536; h++) {
    const x = f16ToNumber(h);
    if (Number.isNaN(x)) assert.ok(Number.isNaN(f16ToNumber(f16Bits(x))), `NaN pattern ${h}`);
    else assert.equal(f16Bits(x), h === 0x8000 ? 0x8000 : h, `pattern ${h.toString(16)} (${x})`);
  }
});

test('f16Bits rounds to nearest, ties to even, and overflows to infinity', () => {
  // 1 + 2^-11 is halfway between 1 and 1 + 2^-10: ties to the even 1.
  assert.equal(f16Bits(1 + 2 ** -11), 0x3c00);
  // 1 + 3 * 2^-11 is halfway between 1 + 2^-10 and 1 + 2^-9: ties to the even 1 + 2^-9.
  assert.equal(f16Bits(1 + 3 * 2 ** -11), 0x3c02);
  assert.equal(f16ToNumber(f16Bits(1 + 2 ** -11 + 2 ** -20)), 1 + 2 ** -10);
  assert.equal(f16Bits(65504), 0x7bff);
  assert.equal(f16Bits(65520), 0x7c00); // rounds up past the largest finite value
  assert.equal(f16Bits(-1e9), 0xfc00);
  assert.equal(f16Bits(2 ** -25), 0); // half the smallest subnormal: ties to even zero
  assert.equal(f16Bits(3 * 2 ** -25), 2); // 1.5 subnormal steps: ties to even 2
  assert.deepEqual(Array.from(toF16([0, -0, 1, 0.5])), [0, 0x8000, 0x3c00, 0x3800]);
  assert.equal(f16Overflow([1, 2, 70000, 3]), 2);
  assert.equal(f16Overflow([1, 65504, Infinity]), -1);
});
