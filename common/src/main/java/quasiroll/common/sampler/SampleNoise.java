package quasiroll.common.sampler;

/**
 * The noise of ONE sample (one prompt, one sample index): a stateful stream of 64-bit codes, one
 * per generated-token position, created by {@link NoiseFactory}.
 *
 * <p>Protocol per token position: the sampler reads {@link #code()}, an unsigned 64-bit integer
 * that is exactly uniform on [0, 2^64) (marginally, over the randomization); it selects the token
 * whose integer CDF bucket [lo, lo + width) (in units of 2^-32 of the unit interval, see {@link
 * TokenSampler}) holds the top 32 bits of the code; then it calls {@link #advance(long, long)} with
 * that bucket. Token-level couplings ignore the bucket and move to the next point coordinate;
 * carried-code couplings renormalise the code into the bucket (arithmetic decoding), which is what
 * makes their k samples partition sequence space.
 */
public interface SampleNoise {
  /** The current position's code, an unsigned 64-bit integer, uniform on [0, 2^64). */
  long code();

  /**
   * Moves to the next position after a token with bucket [lo, lo + width) was chosen, where lo and
   * width are in units of 2^-32 (0 <= lo, 1 <= width, lo + width <= 2^32) and {@code code() >>> 32}
   * lies in [lo, lo + width).
   */
  void advance(long lo, long width);

  /** Generated-token position of {@link #code()}, starting at 0. */
  int position();

  /** The prompt seed this noise derives from (for group-shared per-step permutations). */
  long promptSeed();

  /**
   * Notes for the sample's metadata, e.g. which positions fell back past the point set's dimension
   * count and to what. Empty when there is nothing to report.
   */
  String note();
}
