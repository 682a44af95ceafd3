import { test } from 'node:test';
import assert from 'node:assert/strict';
import { deflateSync, inflateSync } from 'node:zlib';
import { encodePng } from '../../src/render/png';

test('encodePng writes a PNG whose IDAT inflates back to the filtered rows', () => {
  const w = 3, h = 2;
  const rgb = Uint8Array.from({ length: w * h * 3 }, (_, i) => (i * 37) & 255);
  const png = encodePng(rgb, w, h, (b) => new Uint8Array(deflateSync(b)));
  assert.deepEqual(Array.from(png.subarray(0, 8)), [137, 80, 78, 71, 13, 10, 26, 10]);
  const dv = new DataView(png.buffer, png.byteOffset);
  assert.equal(String.fromCharCode(...png.subarray(12, 16)), 'IHDR');
  assert.equal(dv.getUint32(16), w);
  assert.equal(dv.getUint32(20), h);
  const idatLen = dv.getUint32(33);
  assert.equal(String.fromCharCode(...png.subarray(37, 41)), 'IDAT');
  const raw = inflateSync(png.subarray(41, 41 + idatLen));
  for (let y = 0; y < h; y++) {
    assert.equal(raw[y * (1 + w * 3)], 0, 'filter byte');
    assert.deepEqual(Array.from(raw.subarray(y * (1 + w * 3) + 1, (y + 1) * (1 + w * 3))), Array.from(rgb.subarray(y * w * 3, (y + 1) * w * 3)));
  }
  assert.throws(() => encodePng(rgb, 4, 2, (b) => b), /for 4 x 2 RGB/);
});
