package quasiroll.common.noise;

/**
 * Starting codes of the lattice coupling (the QuasiMoTTo lattice / arithmetic sampling with a
 * random shift): X_0(i) = floor(i * 2^64 / k) + shift (mod 2^64), shift a uniform 64-bit word from
 * the prompt seed. Adding an exactly uniform word mod 2^64 makes each X_0(i) exactly uniform; the k
 * codes stay evenly spaced (gaps floor or ceil of 2^64 / k), so the number of codes in any interval
 * of length L is floor or ceil of k * L / 2^64.
 */
public final class LatticeCodes {
  public static final long DOMAIN_SHIFT = 0x4c41_5454_4943_0001L; // "LATTIC\0\1"

  private LatticeCodes() {}

  public static long initialCode(long promptSeed, int index, int k) {
    long shift = KeyedHash.hash(promptSeed, DOMAIN_SHIFT);
    return WideDivision.divide96(index, 0, 0, k) + shift;
  }

  /**
   * The code of sample {@code index} of a group of base size k that may grow ({@link
   * quasiroll.common.noise.ExtensibleOrder}): floor(num·2^64/den) + shift with the same shift, so
   * the first k·2^L codes are exactly the k·2^L-point lattice's codes. Equal to {@link
   * #initialCode} for index < k.
   */
  public static long extensibleCode(long promptSeed, int index, int k) {
    long shift = KeyedHash.hash(promptSeed, DOMAIN_SHIFT);
    long[] f = quasiroll.common.noise.ExtensibleOrder.fraction(index, k);
    return WideDivision.divide96(f[0], 0, 0, f[1]) + shift;
  }
}
