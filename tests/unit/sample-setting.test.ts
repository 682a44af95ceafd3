// The per-head setting (src/sampleattention/spec/setting.ts): validation with named fields, the
// SampleParams-means-tokens rule, the mixed-layer float64 reference (each head by its variant's
// reference), and the two-plane mask form (mask-planes.ts) giving exactly each variant's mask and
// density on random selections.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { asHeadSetting, DEFAULT_SETTINGS, settingProblems, settingText, tokensResults, validateSetting, type HeadSetting } from '../../src/sampleattention/spec/setting';
import { selectAllSettings } from '../../src/sampleattention/spec/setting-reference';
import { headView, kvHeadOf, selectHead, inMask, keySetOf } from '../../src/sampleattention/spec/reference';
import { selectHeadBlocks } from '../../src/sampleattention/spec/blocks/reference';
import { blocksMask, blocksPredicate } from '../../src/sampleattention/spec/blocks/mask';
import { planesCount, planesPredicate, resultPlanes } from '../../src/sampleattention/spec/mask-planes';
import { freshSeed, randn, rng } from '../helpers/gpu';

test('settings: validation names the field, SampleParams are tokens, other variants\' fields are unknown', () => {
  assert.deepEqual(asHeadSetting({ alpha: 0.9, rowRatio: 0.1, windowRatio: 0.2 }), { variant: 'tokens', alpha: 0.9, rowRatio: 0.1, windowRatio: 0.2 });
  assert.deepEqual(validateSetting(DEFAULT_SETTINGS.blocks), DEFAULT_SETTINGS.blocks);
  assert.throws(() => validateSetting({ ...DEFAULT_SETTINGS.blocks, blockSize: 0 }), /SampleAttention blocks setting blockSize: 0 is not an integer in \[1, 65536\]\./);
  assert.throws(() => validateSetting({ ...DEFAULT_SETTINGS.tokens, alpha: 1.5 }), /tokens setting alpha: 1.5 is outside \(0, 1\]/);
  assert.throws(() => validateSetting({ variant: 'stripes' } as never), /variant: "stripes" is not one of tokens, blocks/);
  assert.deepEqual(settingProblems({ ...DEFAULT_SETTINGS.blocks, alpha: 0.9 }), [['alpha', 'unknown field for variant blocks (expected one of variant, blockSize, alphaColumn, alphaSlash, rowRatio)']]);
  assert.deepEqual(settingProblems({ alpha: 0.9, rowRatio: 0.1, windowRatio: 0 }), [['variant', 'missing (one of tokens, blocks)']]);
  assert.deepEqual(settingProblems({ variant: 'blocks', blockSize: 16, alphaColumn: 0.9, rowRatio: 0.1 }), [['alphaSlash', 'missing']]);
  assert.equal(settingText({ variant: 'blocks', blockSize: 64, alphaColumn: 0.9, alphaSlash: 0.95, rowRatio: 0.05 }), 'blocks 64/0.9/0.95/0.05');
});

const seed = freshSeed();
test(`mixed layer reference and mask planes equal each variant's own (SEED=${seed})`, () => {
  const r = rng(seed);
  const heads = 6, kvHeads = 2, S = 57, d = 8;
  const q = randn(r, heads * S * d), k = randn(r, kvHeads * S * d), v = randn(r, kvHeads * S * d);
  const settings: HeadSetting[] = [
    { variant: 'tokens', alpha: 0.9, rowRatio: 0.1, windowRatio: 0.1 },
    { variant: 'blocks', blockSize: 16, alphaColumn: 0.8, alphaSlash: 0.7, rowRatio: 0.2 },
    { variant: 'blocks', blockSize: 7, alphaColumn: 0.6, alphaSlash: 0.9, rowRatio: 0.3 },
    { variant: 'tokens', alpha: 0.5, rowRatio: 0.05, windowRatio: 0 },
    { variant: 'blocks', blockSize: 64, alphaColumn: 0.9, alphaSlash: 0.9, rowRatio: 0.05 },
    { variant: 'tokens', alpha: 1, rowRatio: 1, windowRatio: 0.5 },
  ];
  const got = selectAllSettings(q, k, heads, kvHeads, S, d, settings, { v });
  got.forEach((g, h) => {
    const s = settings[h];
    const [qh, kh, vh] = [headView(q, h, S, d), headView(k, kvHeadOf(h, heads, kvHeads), S, d), headView(v, kvHeadOf(h, heads, kvHeads), S, d)];
    const want = s.variant === 'tokens' ? { variant: 'tokens', ...selectHead(qh, kh, S, d, s, { head: h, v: vh }) } : { variant: 'blocks', ...selectHeadBlocks(qh, kh, S, d, s, { head: h, v: vh }) };
    assert.deepEqual(g, want, `seed ${seed} head ${h}`);
    const planes = resultPlanes(g, S);
    const keep = planesPredicate(planes);
    const own = g.variant === 'tokens' ? ((i: number, j: number) => inMask(i, j, g.window, keySetOf(g.selectedKeys, S))) : blocksPredicate(blocksMask(S, g.blockSize, g.columnBlocks, g.slashBands));
    let n = 0;
    for (let i = 0; i < S; i++) for (let j = 0; j < S; j++) {
      assert.equal(keep(i, j), own(i, j), `seed ${seed} head ${h} entry (${i}, ${j})`);
      if (own(i, j)) n++;
    }
    assert.equal(planesCount(planes), n, `seed ${seed} head ${h}: exact count`);
    assert.equal(n / ((S * (S + 1)) / 2), g.density, `seed ${seed} head ${h}: density`);
  });
  assert.throws(() => tokensResults(got, 'the view'), /the view: head 1 uses the blocks variant/);
});
