package quasiroll.common.noise;

/**
 * Exactly uniform integers in [0, n) from the keyed hash, by rejection: a 64-bit word h is accepted
 * when h >= 2^64 mod n, so the accepted range has a length divisible by n and h mod n has no modulo
 * bias. The j-th attempt hashes (key, domain, a, j), so the result is still a pure function of its
 * arguments. Expected attempts < 1 + n / 2^64.
 */
public final class ExactUniform {
  private ExactUniform() {}

  public static long below(long n, long key, long domain, long a) {
    if (n < 1) {
      throw new IllegalArgumentException("n must be >= 1, got " + n);
    }
    long threshold = Long.remainderUnsigned(-n, n); // (2^64 - n) mod n == 2^64 mod n
    for (long attempt = 0; ; attempt++) {
      long h = KeyedHash.hash(key, domain, a, attempt);
      if (Long.compareUnsigned(h, threshold) >= 0) {
        return Long.remainderUnsigned(h, n);
      }
    }
  }
}
