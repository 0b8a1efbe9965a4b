package quasiroll.common.qmc;

import quasiroll.common.noise.KeyedHash;

/**
 * A keyed pseudo-random permutation of {0, ..., n-1}, evaluated point-wise in O(1) expected
 * time without storing it (so a Latin hypercube needs no O(n) table per dimension):
 * {@code pi(i) = (E(i) + rho) mod n}, where E is a 6-round unbalanced Feistel network on
 * ceil(log2 n) bits restricted to [0, n) by cycle walking (a bijection for any key), and rho
 * is exactly uniform on [0, n) (rejection sampling of keyed hashes). The rotation is what
 * makes pi(i) exactly uniform for every fixed i, which the exact-marginal contract needs;
 * the Feistel part decorrelates the strata of different dimensions.
 */
public final class KeyedPermutation {
  private static final int ROUNDS = 6;
  /** Domain constant "QMCPERMR" for the rotation draws. */
  static final long DOMAIN_ROTATION = 0x514d435045524d52L;

  private final int n;
  private final long key;
  private final int loBits;
  private final int hiBits;
  private final long rotation;

  public KeyedPermutation(int n, long key) {
    if (n < 1) {
      throw new IllegalArgumentException("permutation size " + n + " must be >= 1");
    }
    this.n = n;
    this.key = key;
    int bits = 32 - Integer.numberOfLeadingZeros(n - 1);
    this.loBits = bits / 2;
    this.hiBits = bits - loBits;
    this.rotation = uniformBelow(n, key);
  }

  /** A value exactly uniform on [0, n): the first keyed hash above 2^64 mod n, reduced mod n. */
  static long uniformBelow(int n, long key) {
    long threshold = Long.remainderUnsigned(-(long) n, n); // 2^64 mod n
    for (long c = 0; ; c++) {
      long h = KeyedHash.hash(key, DOMAIN_ROTATION, c);
      if (Long.compareUnsigned(h, threshold) >= 0) {
        return Long.remainderUnsigned(h, n);
      }
    }
  }

  public int size() {
    return n;
  }

  public int apply(int i) {
    if (i < 0 || i >= n) {
      throw new IndexOutOfBoundsException("permutation index " + i + " outside [0, " + n + ")");
    }
    long y = i;
    do {
      y = feistel(y);
    } while (y >= n);
    long r = y + rotation;
    return (int) (r >= n ? r - n : r);
  }

  private long feistel(long x) {
    long loMask = (1L << loBits) - 1;
    long hiMask = (1L << hiBits) - 1;
    long lo = x & loMask;
    long hi = x >>> loBits;
    for (int r = 0; r < ROUNDS; r++) {
      if ((r & 1) == 0) {
        hi ^= KeyedHash.hash(key, r, lo) & hiMask;
      } else {
        lo ^= KeyedHash.hash(key, r, hi) & loMask;
      }
    }
    return (hi << loBits) | lo;
  }
}
