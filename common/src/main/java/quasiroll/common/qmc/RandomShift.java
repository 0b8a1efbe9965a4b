package quasiroll.common.qmc;

import quasiroll.common.noise.KeyedHash;

/**
 * Cranley-Patterson random shift mod 1: y = (x + Delta_dim) mod 1, done exactly on the fixed-point
 * grid as a wrapping 64-bit add of Delta_dim = hash(seed, DOMAIN "QMCSHIFT", dim). Since Delta is
 * uniform on [0, 2^64), y is exactly uniform for any x. Shifting keeps a lattice a lattice
 * (differences of points are unchanged), so this is the randomization for rank-1 lattices and the
 * 1-D lattice; it fits any point set.
 */
public final class RandomShift implements Randomization {
  public static final RandomShift INSTANCE = new RandomShift();

  /** Domain constant "QMCSHIFT". */
  public static final long DOMAIN = 0x514d435348494654L;

  private RandomShift() {}

  /** Delta_dim as unsigned fixed point. */
  public static long shift(long seed, int dim) {
    return KeyedHash.hash(seed, DOMAIN, dim);
  }

  @Override
  public String name() {
    return "shift";
  }

  @Override
  public long apply(long seed, int dim, long x) {
    return x + shift(seed, dim);
  }

  @Override
  public boolean fits(PointSet points) {
    return true;
  }
}
