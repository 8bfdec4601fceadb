/**
 * ε of `rounds` Gaussian mechanisms with noise multiplier `noiseMultiplier` (noise standard deviation over
 * sensitivity), composed with Rényi differential privacy and converted to (ε, δ)-DP: each round is
 * (α, α / (2σ²))-RDP, T rounds are (α, T·α / (2σ²))-RDP (Mironov, "Rényi Differential Privacy", CSF 2017,
 * Prop. 3 and Cor. 3), and (α, ρ)-RDP implies (ρ + log(1/δ) / (α − 1), δ)-DP (Prop. 3); the best α is taken.
 * No amplification by subsampling is claimed: which clients take part is not random.
 */
export function privacyEpsilon(o: { noiseMultiplier: number; rounds: number; delta: number }): number {
  const { noiseMultiplier: sigma, rounds, delta } = o;
  if (!(sigma > 0) || !(delta > 0 && delta < 1) || !(rounds >= 0)) return Number.POSITIVE_INFINITY;
  if (rounds === 0) return 0;
  // ε(α) = Tα/(2σ²) + log(1/δ)/(α−1) is convex in α > 1; its minimum is at α* = 1 + σ·sqrt(2 log(1/δ) / T).
  const log = Math.log(1 / delta);
  const alpha = 1 + sigma * Math.sqrt((2 * log) / rounds);
  return (rounds * alpha) / (2 * sigma * sigma) + log / (alpha - 1);
}
