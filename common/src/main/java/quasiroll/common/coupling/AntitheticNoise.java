package quasiroll.common.coupling;

import quasiroll.common.noise.KeyedHash;

/**
 * Antithetic pairs, token level: samples 2j and 2j+1 read X and ~X (= 2^64 - 1 - X) at every
 * position, X = hash(promptSeed, DOMAIN, j, t). ~X is exactly uniform when X is, so each sample is
 * exact; the pair's uniforms are u and (1 - u) up to 2^-64. With odd k the last index has no
 * partner and reads X alone (still exact).
 */
public final class AntitheticNoise extends PositionedNoise {
  public static final long DOMAIN = 0x414e_5449_5448_0001L; // "ANTITH\0\1"

  private final int pair;
  private final boolean mirrored;

  public AntitheticNoise(long promptSeed, int index) {
    super(promptSeed);
    this.pair = index >>> 1;
    this.mirrored = (index & 1) == 1;
  }

  @Override
  public long code() {
    long x = KeyedHash.hash(promptSeed(), DOMAIN, pair, position());
    return mirrored ? ~x : x;
  }

  @Override
  public void advance(long lo, long width) {
    nextPosition();
  }
}
