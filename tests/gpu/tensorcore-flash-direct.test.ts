import { test } from 'node:test';
import assert from 'node:assert/strict';
import { run } from '../../gpu/kernel';
import { checked } from '../../gpu/device';
import { destroyAll, readTensor, uploadTensor } from '../../gpu/tensor';
import { createDenseOutputs, destroyDenseOutputs } from '../../gpu/attention/flash';
import { createF16Inputs, destroyF16Inputs, FLASH_CANDIDATES, flashCandidateUnfit, flashDirectDispatch, toF16InputsDispatches, type FlashCandidate } from '../../gpu/tensorcore/flash-direct';
import { headView, kvHeadOf } from '../../src/sampleattention/spec/reference';
import { freshSeed, gpu } from '../helpers/gpu';
import { maskedAttention, roundAllF16, tensorCoreModeOrSkip } from '../helpers/tensorcore';
import { attentionInputs } from './sample-inputs';

// The candidate dense flash kernels of the speed sweep against float64 on the same f16-rounded
// q, k, v. Bounds as tests/gpu/tensorcore-attention.test.ts: scores are exact products summed in
// f32, probabilities rounded to f16 before P V (relative <= 2^-11), so an output element may be
// off by 2^-11 of sum_j p_ij |v_jc|; maskedAttention's bound is twice that (plus 1e-6 here).
// exp2 of pre-scaled scores instead of exp adds a relative ~1e-6. lse: 1e-4 absolute.
const LSE_TOL = 1e-4;

// Real subgroup matrices: every candidate. Emulation (slow to compile on a CPU adapter): two shapes.
const EMULATED: FlashCandidate[] = [
  { name: 'emulated 32q x 32k', NSG: 2, BKT: 32 },
  { name: 'emulated 64q x 16k', NSG: 4, BKT: 16 },
];

const cases = [
  { heads: 3, kvHeads: 1, S: 77, d: 32, pattern: 'random' as const },
  { heads: 2, kvHeads: 2, S: 150, d: 64, pattern: 'structured' as const },
];

for (const c of cases) {
  const seed = freshSeed();
  test(`f16 dense flash candidates equal float64 on f16 inputs: heads ${c.heads}/${c.kvHeads}, S ${c.S}, d ${c.d}, ${c.pattern} (SEED=${seed})`, async (t) => {
    const ctx = await gpu();
    const tc = tensorCoreModeOrSkip(t, ctx);
    if (!tc) return;
    const { heads, kvHeads, S, d } = c;
    const shape = { heads, kvHeads, S, d };
    const scale = 1 / Math.sqrt(d);
    const x = attentionInputs(seed, heads, kvHeads, S, d, c.pattern);
    const qr = roundAllF16(x.q), kr = roundAllF16(x.k), vr = roundAllF16(x.v);
    const q = uploadTensor(ctx, 'q', [heads, S, d], x.q); // (heads, S, d) f32
    const k = uploadTensor(ctx, 'k', [kvHeads, S, d], x.k); // (kvHeads, S, d) f32
    const v = uploadTensor(ctx, 'v', [kvHeads, S, d], x.v); // (kvHeads, S, d) f32
    const h16 = createF16Inputs(ctx, shape);
    const refs = Array.from({ length: heads }, (_, h) => {
      const g = kvHeadOf(h, heads, kvHeads);
      return maskedAttention(headView(qr, h, S, d), headView(kr, g, S, d), headView(vr, g, S, d), S, d, scale, () => true);
    });
    try {
      await checked(ctx.device, 'f16 copies', () => run(ctx, toF16InputsDispatches(ctx, q, k, v, h16)));
      for (const cand of tc === 'real' ? FLASH_CANDIDATES : EMULATED) {
        const unfit = flashCandidateUnfit(ctx, cand, d);
        if (unfit) { console.log(`${cand.name}: not run (${unfit})`); continue; }
        const dense = createDenseOutputs(ctx, shape); // NaN-poisoned out (heads, S, d), lse (heads, S)
        try {
          await checked(ctx.device, cand.name, () => run(ctx, [flashDirectDispatch(ctx, tc, cand, shape, h16, dense, scale)]));
          const out = await readTensor(ctx, dense.out), lse = await readTensor(ctx, dense.lse);
          let worst = 0, worstLse = 0;
          for (let h = 0; h < heads; h++) {
            const ref = refs[h];
            for (let i = 0; i < S; i++) {
              for (let cc = 0; cc < d; cc++) {
                const got = out[(h * S + i) * d + cc];
                assert.ok(Number.isFinite(got), `${cand.name}: out[${h}, ${i}, ${cc}] is ${got}`);
                worst = Math.max(worst, Math.abs(got - ref.out[i * d + cc]) / (ref.bound[i * d + cc] + 1e-6));
              }
              assert.ok(Number.isFinite(lse[h * S + i]), `${cand.name}: lse[${h}, ${i}] is ${lse[h * S + i]}`);
              worstLse = Math.max(worstLse, Math.abs(lse[h * S + i] - ref.lse[i]));
            }
          }
          console.log(`${cand.name}: worst / f16 bound ${worst.toFixed(3)}, worst |lse error| ${worstLse.toExponential(2)}`);
          assert.ok(worst <= 1, `${cand.name}: worst error is ${worst.toFixed(2)} x the f16 bound`);
          assert.ok(worstLse <= LSE_TOL, `${cand.name}: lse error ${worstLse} above ${LSE_TOL}`);
        } finally {
          destroyDenseOutputs(dense);
        }
      }
    } finally {
      destroyAll(q, k, v);
      destroyF16Inputs(h16);
    }
  });
}
