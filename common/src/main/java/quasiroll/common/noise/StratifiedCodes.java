package quasiroll.common.noise;

/**
 * Starting codes of the stratified coupling: sample i draws its code inside stratum s = pi(i) of k,
 * X_0 = floor((s * 2^64 + V) / k) with V a uniform 64-bit word of its own.
 *
 * <p>Exactness: s * 2^64 + V runs over [s * 2^64, (s + 1) * 2^64), so across s the map to X_0 has
 * exactly k preimages per value; with s exactly uniform on [0, k) and V uniform, X_0 is exactly
 * uniform on [0, 2^64) (a plain "stratum start + uniform offset" would not be when k does not
 * divide 2^64: strata widths differ by one). The strata are disjoint, so the k codes of a group
 * fall one per stratum.
 *
 * <p>pi(i) = (F(i) + c) mod k, F a keyed Feistel bijection of [0, k) and c exactly uniform on [0,
 * k) ({@link ExactUniform}): a permutation, and each pi(i) is exactly uniform.
 */
public final class StratifiedCodes {
  public static final long DOMAIN_PERM = 0x5354_5241_5450_0001L; // "STRATP\0\1"
  public static final long DOMAIN_OFFSET = 0x5354_5241_544f_0001L; // "STRATO\0\1"
  public static final long DOMAIN_WITHIN = 0x5354_5241_5457_0001L; // "STRATW\0\1"

  private StratifiedCodes() {}

  public static long stratum(long promptSeed, int index, int k) {
    KeyedPermutation f = new KeyedPermutation(k, KeyedHash.hash(promptSeed, DOMAIN_PERM));
    long c = ExactUniform.below(k, promptSeed, DOMAIN_OFFSET, 0);
    return (f.apply(index) + c) % k;
  }

  public static long initialCode(long promptSeed, int index, int k) {
    long s = stratum(promptSeed, index, k);
    long v = KeyedHash.hash(promptSeed, DOMAIN_WITHIN, index);
    return WideDivision.divide96(s, v >>> 32, v & 0xFFFF_FFFFL, k);
  }
}
