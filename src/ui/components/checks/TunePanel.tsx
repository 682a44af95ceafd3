// Auto-tune in the studio: the rule, variants and grid of `sa-studio tune`, run on the open text;
// the result becomes every head's parameters (each head's variant included), and the chosen density
// of each head is drawn as a grid with the blocks heads marked and a count per variant.
import { useState } from 'react';
import { scaleSequential, interpolateViridis } from 'd3';
import { useStudio } from '../../../state/store';
import { runTune } from '../../../state/check-actions';
import { DEFAULT_BLOCKS_GRID, DEFAULT_GRID, TUNE_VARIANTS, gridPoints, isFullMask, ruleText, variantCounts, variantCountsText, type TuneGrid, type TuneVariant } from '../../../sampleattention/studies/tune';
import { MAX_BLOCK_SIZE } from '../../../sampleattention/spec/blocks/params';
import { settingLongText, type HeadSetting } from '../../../sampleattention/spec/setting';
import { TaskStatus } from './TaskStatus';

/** The command line's grids: with the fields untouched, Tune is `sa-studio tune` with no grid
 * flags (the grid always ends with the full mask, gridPoints, so every head can meet the rule). */
const STUDIO_GRID = DEFAULT_GRID;
const STUDIO_BLOCKS_GRID = DEFAULT_BLOCKS_GRID;

/** "0.8, 0.9" -> [0.8, 0.9], or the reason it is not a list of numbers in (lo, 1]. */
export function parseList(name: string, text: string, lowOpen: boolean): number[] | string {
  const xs = text.split(/[,\s]+/).filter((t) => t.length > 0).map(Number);
  if (xs.length === 0) return `${name}: give at least one value.`;
  for (const x of xs) if (!Number.isFinite(x) || x > 1 || (lowOpen ? x <= 0 : x < 0)) return `${name}: ${x} is not in ${lowOpen ? '(0' : '[0'}, 1].`;
  return xs;
}

/** "16, 32" -> [16, 32], or the reason it is not a list of block sizes (integers in [1, MAX]). */
export function parseBlockSizes(text: string): number[] | string {
  const xs = text.split(/[,\s]+/).filter((t) => t.length > 0).map(Number);
  if (xs.length === 0) return 'block sizes: give at least one value.';
  for (const x of xs) if (!(Number.isInteger(x) && x >= 1 && x <= MAX_BLOCK_SIZE)) return `block sizes: ${x} is not an integer in [1, ${MAX_BLOCK_SIZE}].`;
  return xs;
}

/** Which variants the grid tries, as `sa-studio tune --variant`. The default is tokens, the
 * command line's default too: untouched, the studio and `tune` run one grid (and the studio's
 * auto-tune does what it did before it offered blocks); "both" lets each head pick its variant. */
const DEFAULT_TUNE_VARIANT: TuneVariant = 'tokens';

export function TunePanel() {
  const report = useStudio((s) => s.tuneReport);
  const task = useStudio((s) => s.task);
  const ready = useStudio((s) => !!s.prefill && !s.busy);
  const S = useStudio((s) => s.prefill?.S);
  const [target, setTarget] = useState('0.95');
  const [p5, setP5] = useState('0.8');
  const [variant, setVariant] = useState<TuneVariant>(DEFAULT_TUNE_VARIANT);
  const [alphas, setAlphas] = useState(STUDIO_GRID.alpha.join(', '));
  const [rows, setRows] = useState(STUDIO_GRID.rowRatio.join(', '));
  const [windows, setWindows] = useState(STUDIO_GRID.windowRatio.join(', '));
  const [blockSizes, setBlockSizes] = useState(STUDIO_BLOCKS_GRID.blockSize.join(', '));
  const [alphaColumns, setAlphaColumns] = useState(STUDIO_BLOCKS_GRID.alphaColumn.join(', '));
  const [alphaSlashes, setAlphaSlashes] = useState(STUDIO_BLOCKS_GRID.alphaSlash.join(', '));
  const [blocksRows, setBlocksRows] = useState(STUDIO_BLOCKS_GRID.rowRatio.join(', '));
  const t = Number(target);
  const m = p5.trim() === '' ? undefined : Number(p5);
  const tokens = variant !== 'blocks', blocks = variant !== 'tokens';
  // Only the lists of the variants tried are read (as the CLI refuses the other variant's flags).
  const lists = tokens ? [parseList('alpha', alphas, true), parseList('row ratio', rows, true), parseList('window ratio', windows, false)] : [];
  const blists = blocks ? [parseBlockSizes(blockSizes), parseList('alpha column', alphaColumns, true), parseList('alpha slash', alphaSlashes, true), parseList('blocks row ratio', blocksRows, true)] : [];
  const problem = !(t > 0 && t <= 1) ? 'Target recall must be in (0, 1].' : m !== undefined && !(m >= 0 && m <= 1) ? 'Minimum row recall must be in [0, 1] (or empty).' : [...lists, ...blists].find((x) => typeof x === 'string') as string | undefined;
  const grid: TuneGrid | null = problem ? null : {
    // A blocks-only grid keeps the default tokens lists, as `tune --variant blocks` does (they set
    // the full mask's written alpha and rowRatio), so both write the same config.
    alpha: tokens ? lists[0] as number[] : DEFAULT_GRID.alpha,
    rowRatio: tokens ? lists[1] as number[] : DEFAULT_GRID.rowRatio,
    windowRatio: tokens ? lists[2] as number[] : DEFAULT_GRID.windowRatio,
    variant,
    ...(blocks ? { blocks: { blockSize: blists[0] as number[], alphaColumn: blists[1] as number[], alphaSlash: blists[2] as number[], rowRatio: blists[3] as number[] } } : {}),
  };
  let points: HeadSetting[] | string = [];
  try {
    points = grid ? gridPoints(grid, S) : [];
  } catch (e) {
    points = (e as Error).message;
  }
  const bad = problem ?? (typeof points === 'string' ? points : undefined);
  const count = (v: string) => (typeof points === 'string' ? 0 : points.filter((p) => p.variant === v).length);
  return (
    <section className="panel" aria-label="Auto-tune">
      <h2>Auto-tune</h2>
      <div className="muted small-text">Per head, the lowest-density setting of the grid whose recall meets the target on this text (as <code>sa-studio tune --variant {variant}</code>).</div>
      <div className="variant" role="radiogroup" aria-label="Tune variants" style={{ marginTop: 6 }}>
        <span>Variants</span>
        {TUNE_VARIANTS.map((v) => (
          <label key={v}><input type="radio" name="tune-variant" data-testid={`tune-variant-${v}`} checked={variant === v} onChange={() => setVariant(v)} /> {v}</label>
        ))}
      </div>
      <div className="form-grid">
        <label htmlFor="tune-target">Target recall</label><input id="tune-target" type="number" step={0.01} min={0} max={1} value={target} onChange={(e) => setTarget(e.target.value)} />
        <label htmlFor="tune-p5">Min row recall (P5)</label><input id="tune-p5" type="number" step={0.05} min={0} max={1} value={p5} placeholder="none" onChange={(e) => setP5(e.target.value)} />
        {tokens ? <>
          <label htmlFor="tune-alphas">Alphas</label><input id="tune-alphas" type="text" value={alphas} onChange={(e) => setAlphas(e.target.value)} />
          <label htmlFor="tune-rows">Row ratios</label><input id="tune-rows" type="text" value={rows} onChange={(e) => setRows(e.target.value)} />
          <label htmlFor="tune-windows">Window ratios</label><input id="tune-windows" type="text" value={windows} onChange={(e) => setWindows(e.target.value)} />
        </> : null}
        {blocks ? <>
          <label htmlFor="tune-block-sizes">Block sizes</label><input id="tune-block-sizes" type="text" value={blockSizes} onChange={(e) => setBlockSizes(e.target.value)} />
          <label htmlFor="tune-alpha-columns">Alpha columns</label><input id="tune-alpha-columns" type="text" value={alphaColumns} onChange={(e) => setAlphaColumns(e.target.value)} />
          <label htmlFor="tune-alpha-slashes">Alpha slashes</label><input id="tune-alpha-slashes" type="text" value={alphaSlashes} onChange={(e) => setAlphaSlashes(e.target.value)} />
          <label htmlFor="tune-blocks-rows">Blocks row ratios</label><input id="tune-blocks-rows" type="text" value={blocksRows} onChange={(e) => setBlocksRows(e.target.value)} />
        </> : null}
      </div>
      {bad ? <div className="status error">{bad}</div> : <div className="muted small-text" data-testid="tune-points">{(points as HeadSetting[]).length} grid points ({count('tokens')} tokens incl. the full mask, {count('blocks')} blocks{blocks ? '; block sizes above S/2 left out' : ''}) x every layer</div>}
      <div className="row">
        <button disabled={!grid || !!bad || !ready || !!task} onClick={() => grid && void runTune({ targetRecall: t, minRowRecall: m }, grid)}>Tune</button>
      </div>
      <TaskStatus kinds={['tune']} />
      {report ? <TuneGridView /> : null}
    </section>
  );
}

function TuneGridView() {
  const r = useStudio((s) => s.tuneReport)!;
  const all = r.choices.flat();
  const heads = r.choices[0]?.length ?? 0;
  const cell = Math.max(12, Math.min(28, Math.floor(260 / Math.max(1, heads))));
  const color = scaleSequential(interpolateViridis).domain([0, 1]);
  const mean = all.reduce((a, c) => a + c.meanDensity, 0) / all.length;
  const met = all.filter((c) => c.met).length;
  return (
    <figure className="plot" data-testid="tune-report">
      <figcaption>Chosen density per layer x head ({r.tokens} tokens; variants tried: {r.grid.variant ?? 'tokens'}; rule: {ruleText(r.rule)}; b marks a blocks head, a cross a head no grid point satisfies)</figcaption>
      <svg width={28 + heads * cell} height={14 + r.choices.length * cell} role="img" aria-label="Tuned density per layer and head">
        {Array.from({ length: heads }, (_, h) => <text key={h} x={28 + h * cell + cell / 2} y={10} fontSize={9} fill="#9aa3b2" textAnchor="middle">h{h}</text>)}
        {r.choices.map((layer, l) => (
          <g key={l} transform={`translate(0, ${14 + l * cell})`}>
            <text x={0} y={cell * 0.7} fontSize={9} fill="#9aa3b2">L{l}</text>
            {layer.map((c, h) => (
              <g key={h}>
                <rect x={28 + h * cell} y={0} width={cell - 1} height={cell - 1} fill={color(c.meanDensity)}>
                  <title>{`Layer ${l} head ${h}: ${isFullMask(c.params) ? 'the full mask' : settingLongText(c.params)}; density ${c.meanDensity.toFixed(3)}, recall ${c.worstRecallMean.toFixed(4)}, P5 ${c.worstRecallP5.toFixed(4)}${c.met ? '' : ' (rule not met)'}`}</title>
                </rect>
                {/* A blocks head's cell is marked b, so the grid shows which heads chose which variant. */}
                {c.params.variant === 'blocks' ? <text x={28 + h * cell + cell / 2} y={cell * 0.68} fontSize={Math.min(11, cell * 0.6)} fill="#fff" textAnchor="middle" pointerEvents="none">b</text> : null}
                {c.met ? null : <path d={`M${28 + h * cell + 3},3 l${cell - 7},${cell - 7} M${28 + h * cell + cell - 4},3 l${-(cell - 7)},${cell - 7}`} stroke="#ff6b6b" strokeWidth={1.5} />}
              </g>
            ))}
          </g>
        ))}
      </svg>
      <dl className="kv">
        <dt>model density</dt><dd data-testid="tune-density">{mean.toFixed(4)}</dd>
        <dt>worst head recall</dt><dd>{Math.min(...all.map((c) => c.worstRecallMean)).toFixed(4)} (P5 {Math.min(...all.map((c) => c.worstRecallP5)).toFixed(4)})</dd>
        <dt>heads meeting the rule</dt><dd data-testid="tune-met">{met} of {all.length}</dd>
        <dt>variant chosen</dt><dd data-testid="tune-variants">{variantCountsText(variantCounts(r.choices))}</dd>
      </dl>
      <div className="legend"><span><i style={{ background: color(0) }} />density 0</span><span><i style={{ background: color(0.5) }} />0.5</span><span><i style={{ background: color(1) }} />1</span></div>
    </figure>
  );
}
