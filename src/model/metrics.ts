// Language-model measures computed from logits on the host in float64.

/** Negative log-likelihood (nats) of ids[t + 1] under the distribution at position t, for
 * t = 0 .. S - 2. logits: (S, vocab) f32. */
export function nextTokenNll(logits: Float32Array, ids: ArrayLike<number>, vocab: number): Float64Array {
  const S = ids.length;
  if (logits.length !== S * vocab) throw new Error(`nextTokenNll: logits hold ${logits.length} values, expected S * vocab = ${S} * ${vocab}`);
  const out = new Float64Array(Math.max(0, S - 1));
  for (let t = 0; t + 1 < S; t++) {
    const row = t * vocab;
    let max = -Infinity;
    for (let v = 0; v < vocab; v++) max = Math.max(max, logits[row + v]);
    let sum = 0;
    for (let v = 0; v < vocab; v++) sum += Math.exp(logits[row + v] - max);
    const target = ids[t + 1];
    if (!(target >= 0 && target < vocab)) throw new Error(`nextTokenNll: token id ${target} at position ${t + 1} is outside the vocabulary (${vocab})`);
    out[t] = max + Math.log(sum) - logits[row + target];
  }
  return out;
}

/** KL(p || q) in nats between the softmax distributions of two logit rows. */
export function klDivergence(p: Float32Array, q: Float32Array, offset: number, vocab: number): number {
  const lse = (x: Float32Array) => {
    let m = -Infinity;
    for (let v = 0; v < vocab; v++) m = Math.max(m, x[offset + v]);
    let s = 0;
    for (let v = 0; v < vocab; v++) s += Math.exp(x[offset + v] - m);
    return m + Math.log(s);
  };
  const lp = lse(p);
  const lq = lse(q);
  let kl = 0;
  for (let v = 0; v < vocab; v++) {
    const a = p[offset + v] - lp;
    kl += Math.exp(a) * (a - (q[offset + v] - lq));
  }
  return Math.max(0, kl);
}

export function argmax(x: Float32Array, offset: number, n: number): number {
  let best = 0;
  for (let i = 1; i < n; i++) if (x[offset + i] > x[offset + best]) best = i;
  return best;
}

export const bitsPerByte = (nllNats: number, bytes: number) => nllNats / Math.LN2 / bytes;
