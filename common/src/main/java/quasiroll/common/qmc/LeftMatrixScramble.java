package quasiroll.common.qmc;

import quasiroll.common.noise.KeyedHash;

/**
 * Left-matrix scrambling plus digital shift (Matousek 1998; what scipy.stats.qmc.Sobol does with
 * scramble=True): y = L_dim x xor D_dim over GF(2), with the 64 digits of x as a vector (most
 * significant first), L_dim a random 64 x 64 lower-triangular binary matrix with unit diagonal, and
 * D_dim a uniform 64-bit digital shift. L is invertible and lower triangular, so every elementary
 * interval maps to one of the same size and a (t, m, s)-net stays a (t, m, s)-net; the shift makes
 * y exactly uniform. Below-diagonal digits come from the matrix too, so a 32-digit Sobol' point
 * gets all 64 digits scrambled.
 *
 * <p>Column l of L (the image of digit l) is 2^(63-l) plus uniform bits below it, from
 * mix(hash(seed, DOMAIN_MATRIX "QMCLMSMX", dim) + golden * (l + 1)); the shift is hash(seed,
 * DOMAIN_SHIFT "QMCLMSSH", dim). Applying L costs one mix per set digit of x.
 */
public final class LeftMatrixScramble implements Randomization {
  public static final LeftMatrixScramble INSTANCE = new LeftMatrixScramble();

  /** Domain constant "QMCLMSMX". */
  public static final long DOMAIN_MATRIX = 0x514d434c4d534d58L;

  /** Domain constant "QMCLMSSH". */
  public static final long DOMAIN_SHIFT = 0x514d434c4d535348L;

  private static final long GOLDEN = 0x9E3779B97F4A7C15L;

  private LeftMatrixScramble() {}

  /** Column l (digit l, l = 0 most significant) of the matrix L for (seed, dim). */
  static long column(long matrixKey, int l) {
    long below = l == 63 ? 0 : KeyedHash.mix(matrixKey + GOLDEN * (l + 1)) & ((1L << (63 - l)) - 1);
    return (1L << (63 - l)) | below;
  }

  @Override
  public String name() {
    return "lms";
  }

  @Override
  public long apply(long seed, int dim, long x) {
    long key = KeyedHash.hash(seed, DOMAIN_MATRIX, dim);
    long y = 0;
    long rest = x;
    while (rest != 0) {
      int l = Long.numberOfLeadingZeros(rest);
      y ^= column(key, l);
      rest &= ~(1L << (63 - l));
    }
    return y ^ KeyedHash.hash(seed, DOMAIN_SHIFT, dim);
  }

  @Override
  public boolean fits(PointSet points) {
    return points.isDigitalNetBase2();
  }
}
