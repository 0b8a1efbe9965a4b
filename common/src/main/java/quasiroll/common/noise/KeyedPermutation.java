package quasiroll.common.noise;

/**
 * A keyed bijection of [0, n): a balanced Feistel network on the smallest domain of 2b bits holding
 * n, with cycle walking (re-apply until the value lands below n; the domain is at most 4n, so a few
 * rounds on average). Used for the per-step vocabulary permutation ({@code VocabOrder.PERMUTED})
 * and to scatter strata. It is a fixed pseudo-random permutation per key, NOT a uniformly random
 * one; callers that need an exactly uniform image of one point add an exactly uniform offset mod n
 * ({@link ExactUniform}).
 */
public final class KeyedPermutation {
  private static final int ROUNDS = 4;
  private final long n;
  private final long key;
  private final int halfBits;
  private final long halfMask;

  public KeyedPermutation(long n, long key) {
    if (n < 1) {
      throw new IllegalArgumentException("permutation size must be >= 1, got " + n);
    }
    this.n = n;
    this.key = key;
    int bits = 64 - Long.numberOfLeadingZeros(Math.max(1, n - 1));
    this.halfBits = Math.max(1, (bits + 1) / 2);
    this.halfMask = (1L << halfBits) - 1;
  }

  public long size() {
    return n;
  }

  /** The image of x in [0, n). */
  public long apply(long x) {
    if (x < 0 || x >= n) {
      throw new IllegalArgumentException("x=" + x + " outside [0, " + n + ")");
    }
    if (n == 1) {
      return 0;
    }
    long y = x;
    do {
      y = feistel(y);
    } while (y >= n);
    return y;
  }

  private long feistel(long v) {
    long left = v >>> halfBits;
    long right = v & halfMask;
    for (int round = 0; round < ROUNDS; round++) {
      long next = left ^ (KeyedHash.hash(key, round, right) & halfMask);
      left = right;
      right = next;
    }
    return (left << halfBits) | right;
  }
}
