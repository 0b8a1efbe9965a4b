package quasiroll.common.qmc;

import quasiroll.common.noise.KeyedHash;

/**
 * Random digital shift in base 2: y = x xor D_dim with D_dim = hash(seed, DOMAIN "QMCDSHFT", dim)
 * covering all 64 bits, so y is exactly uniform even when x has only 32 significant bits. It keeps
 * a digital net a digital net (with the same t); the weakest of the digital randomizations (every
 * point moves by the same xor).
 */
public final class DigitalShift implements Randomization {
  public static final DigitalShift INSTANCE = new DigitalShift();

  /** Domain constant "QMCDSHFT". */
  public static final long DOMAIN = 0x514d434453484654L;

  private DigitalShift() {}

  public static long shift(long seed, int dim) {
    return KeyedHash.hash(seed, DOMAIN, dim);
  }

  @Override
  public String name() {
    return "xor";
  }

  @Override
  public long apply(long seed, int dim, long x) {
    return x ^ shift(seed, dim);
  }

  @Override
  public boolean fits(PointSet points) {
    return points.isDigitalNetBase2();
  }
}
