package quasiroll.common.qmc;

import quasiroll.common.noise.ExactUniform;
import quasiroll.common.noise.KeyedHash;
import quasiroll.common.noise.KeyedPermutation;
import quasiroll.common.noise.WideDivision;

/**
 * A Latin hypercube of n points (McKay, Beckman and Conover 1979): coordinate t of point i is
 * (pi_t(i) + U_{i,t}) / n with an independent random permutation pi_t per dimension and an
 * independent uniform jitter U_{i,t}; every 1-D projection hits each of the n strata [s/n, (s+1)/n)
 * exactly once. Random by construction, so it is built from a seed and needs no further
 * randomization (SSJ's LatinHypercube likewise redraws itself).
 *
 * <p>pi_t(i) = (F_t(i) + rho_t) mod n: F_t is the Feistel {@link KeyedPermutation} keyed by
 * hash(seed, DOMAIN_PERMUTATION "QMCLHSPM", t) (a bijection, evaluated point-wise, so no O(n) table
 * per dimension), and rho_t is {@link ExactUniform#below} n under (seed, DOMAIN_ROTATION
 * "QMCLHSRT", t), which makes pi_t(i) exactly uniform for every fixed i. U_{i,t} is the 64-bit
 * hash(seed, DOMAIN_JITTER "QMCLHSJT", t, i). In fixed point the coordinate is floor((pi_t(i) *
 * 2^64 + U) / n), which is exactly uniform on [0, 2^64) because pi_t(i) is exactly uniform on [0,
 * n) and U on [0, 2^64). Dimensions are computed on demand, so the dimension may be as large as
 * {@link Integer#MAX_VALUE}.
 */
public final class LatinHypercube implements PointSet {
  /** Domain constant "QMCLHSPM". */
  public static final long DOMAIN_PERMUTATION = 0x514d434c4853504dL;

  /** Domain constant "QMCLHSRT". */
  public static final long DOMAIN_ROTATION = 0x514d434c48535254L;

  /** Domain constant "QMCLHSJT". */
  public static final long DOMAIN_JITTER = 0x514d434c48534a54L;

  private final int n;
  private final int d;
  private final long seed;

  public LatinHypercube(int n, int d, long seed) {
    if (n < 1 || d < 1) {
      throw new IllegalArgumentException(
          "Latin hypercube needs n >= 1 and d >= 1, got n=" + n + " d=" + d);
    }
    this.n = n;
    this.d = d;
    this.seed = seed;
  }

  @Override
  public int numPoints() {
    return n;
  }

  @Override
  public int dimension() {
    return d;
  }

  /** The stratum pi_t(i) that point i occupies in dimension t. */
  public int stratum(int i, int t) {
    checkIndex(i, t);
    long scattered = new KeyedPermutation(n, KeyedHash.hash(seed, DOMAIN_PERMUTATION, t)).apply(i);
    long r = scattered + ExactUniform.below(n, seed, DOMAIN_ROTATION, t);
    return (int) (r >= n ? r - n : r);
  }

  @Override
  public long coordinate(int i, int t) {
    long u = KeyedHash.hash(seed, DOMAIN_JITTER, t, i);
    return WideDivision.divide96(stratum(i, t), u >>> 32, u & 0xFFFFFFFFL, n);
  }

  @Override
  public String describe() {
    return "lhs n=" + n + " d=" + (d == Integer.MAX_VALUE ? "unbounded" : Integer.toString(d));
  }
}
