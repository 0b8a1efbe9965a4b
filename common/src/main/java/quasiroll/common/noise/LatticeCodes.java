package quasiroll.common.noise;

/**
 * Starting codes of the lattice coupling (the QuasiMoTTo lattice / arithmetic sampling with a
 * random shift): X_0(i) = floor(i * 2^64 / k) + shift (mod 2^64), shift a uniform 64-bit
 * word from the prompt seed. Adding an exactly uniform word mod 2^64 makes each X_0(i)
 * exactly uniform; the k codes stay evenly spaced (gaps floor or ceil of 2^64 / k), so the
 * number of codes in any interval of length L is floor or ceil of k * L / 2^64.
 */
public final class LatticeCodes {
  public static final long DOMAIN_SHIFT = 0x4c41_5454_4943_0001L; // "LATTIC\0\1"

  private LatticeCodes() {}

  public static long initialCode(long promptSeed, int index, int k) {
    long shift = KeyedHash.hash(promptSeed, DOMAIN_SHIFT);
    return WideDivision.divide96(index, 0, 0, k) + shift;
  }
}
