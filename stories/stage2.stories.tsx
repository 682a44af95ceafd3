// Kernels/Stage 2: SampleAttention's key selection on the GPU (gpu/sample/stage2.ts): from the
// column scores (heads, S) to the fewest top-scored keys holding alpha of the sampled mass, as a
// mask, an ascending key list and the stage-1 estimate, against selectKeys (src/sampleattention/spec/reference.ts).
// The scores are the float64 reference's, rounded to f32, so both sides select from the same input.
import type { Meta, StoryObj } from '@storybook/react-vite';
import { createStage2, destroyStage2, stage2Dispatches } from '../gpu/sample/stage2';
import { destroyAll, readU32, uploadTensor } from '../gpu/tensor';
import { columnScores, headView, kvHeadOf, sampledRows, selectKeys, type KeySelection } from '../src/sampleattention/spec/reference';
import { CumulativeCurve } from '../src/ui/components/CumulativeCurve';
import { KernelStory, type Check, type MakeRun } from './kernel-harness';
import { ATTENTION_ARGS, attentionArgTypes, type AttentionArgs } from './attention-args';
import { attentionInputs } from './kernel-inputs';

// f32 (GPU) vs float64 running sums: when alpha * total lies within this of a running sum at the
// boundary, or the two boundary scores are this close, rounding may legally move k by one key
// (tests/gpu/sample-stages.test.ts). The estimate is a running sum of <= S f32 scores over n: 1e-5.
const TIE_EPS = 1e-5;
const EST_TOL = 1e-5;

interface Stage2Args extends AttentionArgs { rowRatio: number; alpha: number }

const make: MakeRun<Stage2Args> = (ctx, a) => {
  const { heads, kvHeads, S, d } = a;
  const x = attentionInputs(a.seed, heads, kvHeads, S, d, a.pattern);
  const rows = sampledRows(S, a.rowRatio);
  const n = rows.length;
  const scoresHost = new Float32Array(heads * S);
  for (let h = 0; h < heads; h++) {
    const g = kvHeadOf(h, heads, kvHeads);
    scoresHost.set(columnScores(headView(x.q, h, S, d), headView(x.k, g, S, d), S, d, rows), h * S);
  }
  const scores = uploadTensor(ctx, 'column scores', [heads, S], scoresHost); // (heads, S) f32
  const o = createStage2(ctx, heads, S, Array(heads).fill(a.alpha), Array(heads).fill(n)); // mask, keyList (heads, S) u32; stats (heads, 2)
  return {
    title: `stage 2, heads ${heads}, S ${S}: alpha ${a.alpha} of the mass of ${n} sampled rows (rowRatio ${a.rowRatio}) -> kept keys`,
    dispatches: stage2Dispatches(ctx, heads, S, scores, o),
    inputs: [{ kind: 'bars', title: 'column scores c_j, head 0 (input, from stage 1)', values: scoresHost.subarray(0, S) }],
    reference: () => Array.from({ length: heads }, (_, h) => selectKeys(Float64Array.from(scoresHost.subarray(h * S, (h + 1) * S)), a.alpha, n)),
    async compare(ref) {
      const want = ref as KeySelection[];
      const mask = await readU32(ctx, o.mask.buffer, heads * S);
      const list = await readU32(ctx, o.keyList.buffer, heads * S);
      const stats = await readU32(ctx, o.stats.buffer, heads * 2);
      const statsF = new Float32Array(stats.buffer);
      let keyDiff = 0, keyTol = 0, maskDiff = 0, estErr = 0;
      want.forEach((w, h) => {
        const count = stats[2 * h];
        const keys = count <= S ? Array.from(list.subarray(h * S, h * S + count)) : [];
        const got = new Set(keys);
        for (let j = 0; j < S; j++) if ((mask[h * S + j] === 1) !== got.has(j) || mask[h * S + j] > 1) maskDiff++;
        const diff = keys.filter((j) => !w.keys.includes(j)).length + w.keys.filter((j) => !got.has(j)).length + (count > S ? S : 0);
        // Margin of the reference selection from an f32 tie (see TIE_EPS).
        const kR = w.keys.length, run = w.cumulative, target = a.alpha * run[S - 1];
        const gaps = [run[kR - 1] - target];
        if (kR >= 2) gaps.push(target - run[kR - 2]);
        if (kR < S) gaps.push(scoresHost[h * S + w.order[kR - 1]] - scoresHost[h * S + w.order[kR]]);
        const nearTie = a.alpha !== 1 && Math.min(...gaps) <= TIE_EPS;
        keyDiff = Math.max(keyDiff, diff);
        keyTol = Math.max(keyTol, nearTie ? 1 : 0);
        if (count === kR) estErr = Math.max(estErr, Math.abs(statsF[2 * h + 1] - w.stage1Estimate));
      });
      const checks: Check[] = [
        { what: 'kept keys differing from the reference (worst head)', error: keyDiff, tolerance: keyTol, why: keyTol ? 'near an f32 tie: k may move by one' : 'exact: no f32 tie near the cut-off' },
        { what: 'mask entries disagreeing with the key list', error: maskDiff, tolerance: 0, why: 'two views of one set' },
        { what: 'stage-1 estimate abs error', error: estErr, tolerance: EST_TOL, why: 'running sum of f32 scores' },
      ];
      const kept0 = stats[0];
      return {
        checks,
        outputs: [
          { kind: 'bars', title: `kept keys of head 0 (green): k = ${kept0}, estimate ${statsF[1].toFixed(4)}`, values: scoresHost.subarray(0, S), mark: mask.subarray(0, S), markLabel: 'in I_KV' },
          { kind: 'node', title: 'the cut-off (studio component CumulativeCurve), head 0', node: <CumulativeCurve scores={scoresHost.subarray(0, S)} kept={kept0} rows={n} alpha={a.alpha} width={420} /> },
        ],
      };
    },
    dispose: () => {
      destroyAll(scores);
      destroyStage2(o);
    },
  };
};

const meta = {
  title: 'Kernels/Stage 2 key selection',
  args: { ...ATTENTION_ARGS, rowRatio: 0.1, alpha: 0.9 },
  argTypes: {
    ...attentionArgTypes,
    rowRatio: { control: { type: 'range', min: 0.01, max: 1, step: 0.01 }, description: 'share of query rows sampled' },
    alpha: { control: { type: 'range', min: 0.05, max: 1, step: 0.005 }, description: 'share of the sampled mass the kept keys must hold' },
  },
  render: (args: Stage2Args) => <KernelStory name="Stage 2: key selection" args={args} make={make} />,
} satisfies Meta<Stage2Args>;
export default meta;

export const Random: StoryObj<typeof meta> = {};
export const Structured: StoryObj<typeof meta> = { args: { pattern: 'structured' } };
