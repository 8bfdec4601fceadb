/** One client's update as the round received it. */
export interface ClientUpdate {
  installId: string;
  /** `[F, C]` row-major: the client's trained W minus the round's W. */
  dW: ArrayLike<number>;
  /** Its trained b minus the round's b. */
  db: ArrayLike<number>;
  /** How many local examples it trained on (its own claim). */
  examples: number;
}

export interface AggregationOptions {
  /** Each update (dW and db together) is scaled down to at most this L2 norm. */
  clipNorm: number;
  /** A client's weight is its example count, capped here (clients report their own counts). */
  maxExamplesPerClient: number;
  /** Share of clients cut from each end, per coordinate, before averaging (0 ≤ t < 0.5). */
  trimFraction: number;
  /**
   * Differential privacy: with a noise multiplier z the round takes the unweighted mean of the clipped updates
   * plus Gaussian noise of standard deviation z · clipNorm / n on every coordinate (no weights, no trimming:
   * those would change the sensitivity).
   */
  noiseMultiplier?: number;
  /** Standard normal draws for the noise (default: Box–Muller on crypto.getRandomValues). */
  gaussian?: () => number;
}

export interface Aggregate {
  dW: Float64Array;
  db: Float64Array;
  clients: number;
  /** Sum of the capped example counts (the weights). */
  examples: number;
  /** Updates whose norm was over clipNorm. */
  clipped: number;
  /** Clients cut from each end of every coordinate. */
  trimmedPerSide: number;
  /** L2 norm of the aggregate (dW and db together). */
  norm: number;
  /** Median L2 norm of the updates before clipping. */
  medianClientNorm: number;
  /** 'trimmed-mean' or 'dp-gaussian'. */
  method: 'trimmed-mean' | 'dp-gaussian';
}

/**
 * Robust aggregation of head updates: every update is clipped to `clipNorm` (so one client cannot move the
 * head further than that), weighted by its example count capped at `maxExamplesPerClient`, and every
 * coordinate is the weighted mean of what is left after the `trimFraction` lowest and highest values of
 * that coordinate are cut (the coordinate-wise trimmed mean: Yin et al., "Byzantine-Robust Distributed
 * Learning", ICML 2018). With `noiseMultiplier`, the Gaussian mechanism of DP-FedAvg instead (McMahan et al.,
 * "Learning Differentially Private Recurrent Language Models", ICLR 2018): the unweighted mean of the clipped
 * updates, noised.
 */
export function aggregateUpdates(updates: readonly ClientUpdate[], options: AggregationOptions): Aggregate {
  if (updates.length === 0) throw new Error('no updates to aggregate');
  const size = updates[0].dW.length + updates[0].db.length;
  const wLength = updates[0].dW.length;
  const norms: number[] = [];
  let clipped = 0;
  // Clipped copies, dW and db concatenated.
  const rows = updates.map((u) => {
    if (u.dW.length + u.db.length !== size) throw new Error('updates of different shapes');
    const row = new Float64Array(size);
    let sq = 0;
    for (let j = 0; j < wLength; j++) sq += (row[j] = u.dW[j]) ** 2;
    for (let c = 0; c < u.db.length; c++) sq += (row[wLength + c] = u.db[c]) ** 2;
    const norm = Math.sqrt(sq);
    norms.push(norm);
    if (norm > options.clipNorm) {
      clipped++;
      const scale = options.clipNorm / norm;
      for (let j = 0; j < size; j++) row[j] *= scale;
    }
    return row;
  });
  const weights = updates.map((u) => Math.min(Math.max(0, u.examples), options.maxExamplesPerClient));
  const n = rows.length;
  const out = new Float64Array(size);
  let trimmedPerSide = 0;
  let method: Aggregate['method'] = 'trimmed-mean';
  if (options.noiseMultiplier !== undefined && options.noiseMultiplier > 0) {
    method = 'dp-gaussian';
    const gaussian = options.gaussian ?? secureGaussian;
    const sd = (options.noiseMultiplier * options.clipNorm) / n;
    for (let j = 0; j < size; j++) {
      let sum = 0;
      for (const row of rows) sum += row[j];
      out[j] = sum / n + sd * gaussian();
    }
  } else {
    trimmedPerSide = Math.min(Math.floor(options.trimFraction * n), Math.floor((n - 1) / 2));
    const order = Array.from({ length: n }, (_, i) => i);
    for (let j = 0; j < size; j++) {
      order.sort((a, b) => rows[a][j] - rows[b][j]);
      let sum = 0;
      let weight = 0;
      for (let k = trimmedPerSide; k < n - trimmedPerSide; k++) {
        sum += rows[order[k]][j] * weights[order[k]];
        weight += weights[order[k]];
      }
      out[j] = weight > 0 ? sum / weight : 0;
    }
  }
  let sq = 0;
  for (const v of out) sq += v * v;
  const sorted = [...norms].sort((a, b) => a - b);
  return {
    dW: out.slice(0, wLength),
    db: out.slice(wLength),
    clients: n,
    examples: weights.reduce((a, b) => a + b, 0),
    clipped,
    trimmedPerSide,
    norm: Math.sqrt(sq),
    medianClientNorm: sorted.length % 2 ? sorted[(sorted.length - 1) / 2] : (sorted[sorted.length / 2 - 1] + sorted[sorted.length / 2]) / 2,
    method,
  };
}

/** A standard normal draw from the platform's cryptographic generator (Box–Muller). */
function secureGaussian(): number {
  const u = new Uint32Array(2);
  crypto.getRandomValues(u);
  const a = (u[0] + 1) / 4294967297;
  const b = u[1] / 4294967296;
  return Math.sqrt(-2 * Math.log(a)) * Math.cos(2 * Math.PI * b);
}
