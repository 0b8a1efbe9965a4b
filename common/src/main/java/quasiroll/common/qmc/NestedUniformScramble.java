package quasiroll.common.qmc;

import quasiroll.common.noise.KeyedHash;

/**
 * Owen's nested uniform scrambling in base 2 (Owen 1995), hash-based: digit l of y is digit l of x
 * flipped by a random bit that depends on the seed, the dimension, l and ALL of x's digits before l
 * (the node of the binary tree that x's prefix reaches). That is exactly Owen's scrambling for all
 * 64 kept digits, with the random bits supplied by a keyed hash instead of a stored tree. Digits
 * past x's significant ones are flipped by their own prefix bits, so y is exactly uniform on 2^64
 * values. A (t, m, s)-net stays a (t, m, s)-net.
 *
 * <p>Construction: state h_0 = hash(seed, DOMAIN "QMCOWEN1", dim); the flip of digit l is the top
 * bit of h_l; h_{l+1} = mix(h_l xor K_{x_l}) with two fixed odd constants K_0, K_1, so h_l is a
 * chain of bijections of the prefix x_0..x_{l-1} under the key. 64 mixes per coordinate.
 */
public final class NestedUniformScramble implements Randomization {
  public static final NestedUniformScramble INSTANCE = new NestedUniformScramble();

  /** Domain constant "QMCOWEN1". */
  public static final long DOMAIN = 0x514d434f57454e31L;

  private static final long K0 = 0x9E3779B97F4A7C15L;
  private static final long K1 = 0xD1B54A32D192ED03L;

  private NestedUniformScramble() {}

  @Override
  public String name() {
    return "owen";
  }

  @Override
  public long apply(long seed, int dim, long x) {
    long h = KeyedHash.hash(seed, DOMAIN, dim);
    long y = 0;
    for (int l = 0; l < 64; l++) {
      long bit = (x >>> (63 - l)) & 1;
      y |= (bit ^ (h >>> 63)) << (63 - l);
      h = KeyedHash.mix(h ^ (bit == 0 ? K0 : K1));
    }
    return y;
  }

  @Override
  public boolean fits(PointSet points) {
    return points.isDigitalNetBase2();
  }
}
