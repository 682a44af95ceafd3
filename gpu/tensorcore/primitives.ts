// The 16 x 16 x 16 f16 -> f32 matrix primitives every tensor-core kernel is written in, as WGSL:
// the real ones (`chromium_experimental_subgroup_matrix`, one subgroup of 32 invocations owns a
// matrix) or an emulation with the same meaning, for adapters that have shader-f16 but no
// subgroup matrices (Mesa's lavapipe on a developer's machine), so the kernels' tiling, masking
// and softmax are tested there too. The emulation is for tests only; it is never picked silently.
//
// Names the kernels use (generated per workgroup array so pointer types stay simple):
//   LeftM (16 rows x 16 cols f16), RightM (16 x 16 f16), AccM (16 x 16 f32)
//   acc_zero() -> AccM;  mma(a, b, c) -> AccM  (c + a b)
//   load_left_<arr>(off, stride) -> LeftM        element (r, c) = arr[off + r * stride + c]
//   load_right_<arr>(off, stride) -> RightM      element (r, c) = arr[off + r * stride + c]
//   load_right_t_<arr>(off, stride) -> RightM    element (r, c) = arr[off + c * stride + r]
//   store_acc_<arr>(off, m, stride), load_acc_<arr>(off, stride) -> AccM   row-major f32
// For an 'f16x8' array (vec4<u32>, 8 halves an element) off and stride count vec4s: element
// (r, c) of a row-major load is half c of the 8-half run that starts at arr[off + r * stride].
// Subgroup `sg` of a workgroup is invocations 32 sg .. 32 sg + 31 (local_invocation_index), so
// the real path needs an adapter whose subgroups are exactly 32 wide (NVIDIA's are).
//
// Emulation: lane l (of the 32 of a virtual subgroup) holds elements 8 l .. 8 l + 7 of the
// row-major matrix (row l / 2, cols 8 (l % 2) ..); mma goes through workgroup memory with two
// workgroup barriers, so every call must be in workgroup-uniform control flow and every subgroup
// must make the same calls (the kernels are written that way for the real path anyway).

export interface MatrixArray {
  name: string;
  /** Element type of the workgroup or storage array: 'f16x8' is array<vec4<u32>> holding 8 halves
   * an element (16-byte loads and stores); its offsets and strides count those 8-half elements,
   * so rows start on 16 bytes (Dawn's relaxed subgroupMatrixLoad rule: any numeric array element
   * whose size is at least the matrix element's); 'f32x4' is array<vec4<f32>> for accumulators,
   * offsets and strides in vec4s. The kernels give every array a matrix is loaded from or
   * stored to a 16-byte element type, so that it starts 16-byte aligned whatever order the driver
   * lays workgroup variables out in: with array<f16> and array<f32> beside 4-byte variables the
   * attention kernels failed on the H200 without Dawn's bounds checks (flash.wgsl says more). */
  elem: 'f16' | 'f32' | 'f16x8' | 'f32x4';
  uses: readonly ('left' | 'right' | 'right_t' | 'acc')[];
  /** An array of blocks (array<array<elem, n>, m>): a matrix is read from one block, and the
   * kernel writes its loads with blockedLoad / blockedStoreAcc, whose offsets and strides are
   * literal constants on the real path. With constant offsets, strides and a fixed-size block,
   * Dawn's bounds checks can prove the matrix in range at compile time and leave the load as it
   * is; through a function parameter they wrap every load in a run-time test. */
  blocked?: boolean;
}

export interface PrimitiveOptions {
  emulate: boolean;
  /** Subgroups per workgroup (the emulation's scratch is sized by it). */
  subgroups: number;
  arrays: readonly MatrixArray[];
}

const L = 'subgroup_matrix_left<f16, 16, 16>';
const R = 'subgroup_matrix_right<f16, 16, 16>';
const A = 'subgroup_matrix_result<f32, 16, 16>';

/** The module header (enables) and the primitive functions. Kernels call `prim_init(lid)` first. */
export function matrixPrimitives(o: PrimitiveOptions): string {
  return o.emulate ? emulated(o) : real(o);
}

function real(o: PrimitiveOptions): string {
  const out = [
    'enable f16;',
    'enable subgroups;',
    'enable chromium_experimental_subgroup_matrix;',
    'diagnostic(off, chromium.subgroup_matrix_uniformity);',
    `alias LeftM = ${L};`,
    `alias RightM = ${R};`,
    `alias AccM = ${A};`,
    'fn prim_init(lid: u32) {}',
    `fn acc_zero() -> ${A} { return ${A}(); }`,
    `fn mma(a: ${L}, b: ${R}, c: ${A}) -> ${A} { return subgroupMatrixMultiplyAccumulate(a, b, c); }`,
  ];
  for (const a of o.arrays) {
    if (a.blocked) continue; // inline: blockedLoad / blockedStoreAcc
    for (const u of a.uses) {
      if (u === 'left') out.push(`fn load_left_${a.name}(off: u32, stride: u32) -> ${L} { return subgroupMatrixLoad<${L}, row_major>(&${a.name}, off, stride); }`);
      if (u === 'right') out.push(`fn load_right_${a.name}(off: u32, stride: u32) -> ${R} { return subgroupMatrixLoad<${R}, row_major>(&${a.name}, off, stride); }`);
      if (u === 'right_t') out.push(`fn load_right_t_${a.name}(off: u32, stride: u32) -> ${R} { return subgroupMatrixLoad<${R}, col_major>(&${a.name}, off, stride); }`);
      if (u === 'acc') {
        out.push(`fn store_acc_${a.name}(off: u32, m: ${A}, stride: u32) { subgroupMatrixStore<row_major>(&${a.name}, off, m, stride); }`);
        out.push(`fn load_acc_${a.name}(off: u32, stride: u32) -> ${A} { return subgroupMatrixLoad<${A}, row_major>(&${a.name}, off, stride); }`);
      }
    }
  }
  return out.join('\n');
}

function emulated(o: PrimitiveOptions): string {
  const n = o.subgroups * 256;
  const out = [
    'enable f16;',
    'enable subgroups;',
    '// Emulated subgroup matrices (tests on adapters without tensor cores): see gpu/tensorcore/primitives.ts.',
    'struct LeftM { v: array<f16, 8> }',
    'struct RightM { v: array<f16, 8> }',
    'struct AccM { v: array<f32, 8> }',
    'var<private> emu_lane: u32;',
    'var<private> emu_sg: u32;',
    `var<workgroup> emuA: array<f16, ${n}>;`,
    `var<workgroup> emuB: array<f16, ${n}>;`,
    'fn prim_init(lid: u32) { emu_lane = lid % 32u; emu_sg = lid / 32u; }',
    'fn acc_zero() -> AccM { return AccM(); }',
    `fn mma(a: LeftM, b: RightM, c: AccM) -> AccM {
  let base = emu_sg * 256u;
  for (var t = 0u; t < 8u; t++) { emuA[base + emu_lane * 8u + t] = a.v[t]; emuB[base + emu_lane * 8u + t] = b.v[t]; }
  workgroupBarrier();
  var r = c;
  let row = emu_lane / 2u;
  let col0 = (emu_lane % 2u) * 8u;
  for (var t = 0u; t < 8u; t++) {
    var s = 0.0;
    for (var k = 0u; k < 16u; k++) { s += f32(emuA[base + row * 16u + k]) * f32(emuB[base + k * 16u + col0 + t]); }
    r.v[t] += s;
  }
  workgroupBarrier();
  return r;
}`,
  ];
  const rc = 'let row = emu_lane / 2u; let col0 = (emu_lane % 2u) * 8u;';
  for (const a of o.arrays) {
    if (a.blocked && a.elem !== 'f16x8' && a.elem !== 'f32x4') throw new Error(`matrix primitives: blocked arrays are f16x8 or f32x4 (${a.name}: ${a.elem}).`);
    if (a.elem === 'f16x8') { out.push(...emulatedPacked(a)); continue; }
    if (a.elem === 'f32x4') { out.push(...emulatedAccVec4(a)); continue; }
    const cast = a.elem === 'f16' ? '' : 'f16';
    for (const u of a.uses) {
      if (u === 'left' || u === 'right') {
        const T = u === 'left' ? 'LeftM' : 'RightM';
        out.push(`fn load_${u}_${a.name}(off: u32, stride: u32) -> ${T} { var m: ${T}; ${rc} for (var t = 0u; t < 8u; t++) { m.v[t] = ${cast}(${a.name}[off + row * stride + col0 + t]); } return m; }`);
      }
      if (u === 'right_t') out.push(`fn load_right_t_${a.name}(off: u32, stride: u32) -> RightM { var m: RightM; ${rc} for (var t = 0u; t < 8u; t++) { m.v[t] = ${cast}(${a.name}[off + (col0 + t) * stride + row]); } return m; }`);
      if (u === 'acc') {
        if (a.elem !== 'f32') throw new Error(`matrix primitives: accumulator array ${a.name} must be f32.`);
        out.push(`fn store_acc_${a.name}(off: u32, m: AccM, stride: u32) { ${rc} for (var t = 0u; t < 8u; t++) { ${a.name}[off + row * stride + col0 + t] = m.v[t]; } }`);
        out.push(`fn load_acc_${a.name}(off: u32, stride: u32) -> AccM { var m: AccM; ${rc} for (var t = 0u; t < 8u; t++) { m.v[t] = ${a.name}[off + row * stride + col0 + t]; } return m; }`);
      }
    }
  }
  return out.join('\n');
}

/** A blocked array's matrix load as a WGSL expression: element (r, c) as load_<use>_<arr>
 * (above), counted from the start of block `blk` (a WGSL expression); off and stride are numbers,
 * so the real path's call has literal constants. */
export function blockedLoad(emulate: boolean, arr: string, use: 'left' | 'right' | 'right_t' | 'acc', blk: string, off: number, stride: number): string {
  if (emulate) return `load_${use}_${arr}(${blk}, ${off}u, ${stride}u)`;
  const T = use === 'left' ? L : use === 'acc' ? A : R;
  return `subgroupMatrixLoad<${T}, ${use === 'right_t' ? 'col_major' : 'row_major'}>(&${arr}[${blk}], ${off}u, ${stride}u)`;
}

/** A blocked f32x4 array's accumulator store (row-major) as a WGSL statement. */
export function blockedStoreAcc(emulate: boolean, arr: string, blk: string, m: string, off: number, stride: number): string {
  if (emulate) return `store_acc_${arr}(${blk}, ${off}u, ${m}, ${stride}u);`;
  return `subgroupMatrixStore<row_major>(&${arr}[${blk}], ${off}u, ${m}, ${stride}u);`;
}

/** A blocked array's emulated functions take the block first: the parameter, the array
 * expression and the argument to pass on. */
function blockParts(a: MatrixArray): { param: string; arr: string; arg: string } {
  return a.blocked ? { param: 'blk: u32, ', arr: `${a.name}[blk]`, arg: 'blk, ' } : { param: '', arr: a.name, arg: '' };
}

/** Emulated accumulator stores and loads on an array<vec4<f32>> (offsets and strides in vec4s). */
function emulatedAccVec4(a: MatrixArray): string[] {
  if (a.uses.some((u) => u !== 'acc')) throw new Error(`matrix primitives: vec4<f32> array ${a.name} holds accumulators only.`);
  const rc = 'let row = emu_lane / 2u; let col0 = (emu_lane % 2u) * 8u;';
  const { param, arr } = blockParts(a);
  return [
    `fn store_acc_${a.name}(${param}off: u32, m: AccM, stride: u32) { ${rc} for (var t = 0u; t < 8u; t++) { ${arr}[off + row * stride + (col0 + t) / 4u][(col0 + t) % 4u] = m.v[t]; } }`,
    `fn load_acc_${a.name}(${param}off: u32, stride: u32) -> AccM { var m: AccM; ${rc} for (var t = 0u; t < 8u; t++) { m.v[t] = ${arr}[off + row * stride + (col0 + t) / 4u][(col0 + t) % 4u]; } return m; }`,
  ];
}

/** Emulated loads from an array<vec4<u32>> of packed halves (offsets and strides in vec4s). */
function emulatedPacked(a: MatrixArray): string[] {
  const { param, arr, arg } = blockParts(a);
  const out = [`fn emu_half_${a.name}(${param}h: u32) -> f16 { return bitcast<vec2<f16>>(${arr}[h / 8u][(h % 8u) / 2u])[h % 2u]; }`];
  const rc = 'let row = emu_lane / 2u; let col0 = (emu_lane % 2u) * 8u;';
  for (const u of a.uses) {
    if (u === 'left' || u === 'right') {
      const T = u === 'left' ? 'LeftM' : 'RightM';
      out.push(`fn load_${u}_${a.name}(${param}off: u32, stride: u32) -> ${T} { var m: ${T}; ${rc} for (var t = 0u; t < 8u; t++) { m.v[t] = emu_half_${a.name}(${arg}(off + row * stride) * 8u + col0 + t); } return m; }`);
    } else if (u === 'right_t') {
      out.push(`fn load_right_t_${a.name}(${param}off: u32, stride: u32) -> RightM { var m: RightM; ${rc} for (var t = 0u; t < 8u; t++) { m.v[t] = emu_half_${a.name}(${arg}(off + (col0 + t) * stride) * 8u + row); } return m; }`);
    } else throw new Error(`matrix primitives: packed f16 array ${a.name} cannot hold accumulators.`);
  }
  return out;
}
