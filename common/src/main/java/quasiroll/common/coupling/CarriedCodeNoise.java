package quasiroll.common.coupling;

import quasiroll.common.noise.KeyedHash;
import quasiroll.common.noise.WideDivision;

/**
 * One sample's carried code (arithmetic sampling): a single 64-bit unsigned code X, exactly uniform
 * on [0, 2^64), that every token decision reads and then renormalises into the chosen bucket.
 * Lattice and stratified couplings differ only in the starting code X_0.
 *
 * <p><b>Renormalisation (why it stays exact for ANY sequence length).</b> The sampler picks the
 * bucket [lo, lo + f) (units of 2^-32) that holds the top 32 bits of X. Then Y = X - lo * 2^32 is
 * uniform on [0, f * 2^32) given that choice. With B = 32 fresh bits from the keyed hash of (prompt
 * seed, index, position), independent of X, the 96-bit number Y * 2^32 + B is uniform on [0, f *
 * 2^64), and X' = floor((Y * 2^32 + B) / f) (exact limb division, {@link WideDivision}) is uniform
 * on [0, 2^64) because each X' has exactly f preimages. So every position's code is exactly uniform
 * given the past, whatever the accumulated surprisal: no 53-bit double precision trap. The high
 * bits of X' still come from X, so the k codes keep partitioning sequence space the way arithmetic
 * decoding does; only the lowest 32 bits of resolution are refreshed per step.
 */
public final class CarriedCodeNoise extends PositionedNoise {
  /** Domain of the fresh 32 bits appended at each renormalisation. */
  public static final long DOMAIN_REFILL = 0x4341_5252_5946_0001L; // "CARRYF\0\1"

  private static final long TWO_32 = 1L << 32;
  private static final long MASK32 = TWO_32 - 1;

  private final int index;
  private final String note;
  private long code;

  public CarriedCodeNoise(long promptSeed, int index, long initialCode, String note) {
    super(promptSeed);
    this.index = index;
    this.code = initialCode;
    this.note = note;
  }

  @Override
  public long code() {
    return code;
  }

  @Override
  public void advance(long lo, long width) {
    long fresh = KeyedHash.hash(promptSeed(), DOMAIN_REFILL, index, position()) >>> 32;
    code = renormalise(code, lo, width, fresh);
    nextPosition();
  }

  /**
   * X' = floor(((X - lo * 2^32) * 2^32 + fresh) / width): the code renormalised into bucket [lo, lo
   * + width) with 32 fresh low bits. Requires lo <= X >>> 32 < lo + width <= 2^32.
   */
  public static long renormalise(long x, long lo, long width, long fresh) {
    long top = x >>> 32;
    if (width < 1 || lo < 0 || lo + width > TWO_32 || top < lo || top >= lo + width) {
      throw new IllegalArgumentException(
          "bucket [" + lo + ", " + (lo + width) + ") does not hold the code's top bits " + top);
    }
    long y = x - (lo << 32);
    return WideDivision.divide96(y >>> 32, y & MASK32, fresh & MASK32, width);
  }

  @Override
  public String note() {
    return note;
  }
}
