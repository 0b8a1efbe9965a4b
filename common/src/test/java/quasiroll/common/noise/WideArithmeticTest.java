package quasiroll.common.noise;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.math.BigInteger;
import java.util.HashSet;
import java.util.Set;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import quasiroll.common.coupling.CarriedCodeNoise;

/** The exact integer pieces behind the carried codes, checked against BigInteger. */
class WideArithmeticTest {
  private static final BigInteger TWO_32 = BigInteger.ONE.shiftLeft(32);
  private static final BigInteger TWO_64 = BigInteger.ONE.shiftLeft(64);

  private static BigInteger unsigned(long x) {
    return new BigInteger(Long.toUnsignedString(x));
  }

  @Test
  void divide96MatchesBigInteger() {
    SplittableRandom rnd = new SplittableRandom(1);
    for (int t = 0; t < 20_000; t++) {
      long d = t % 3 == 0 ? (1L << 32) - rnd.nextLong(3) : 1 + rnd.nextLong(1L << 32);
      long hi = rnd.nextLong(d);
      long mid = rnd.nextLong() >>> 32;
      long lo = rnd.nextLong() >>> 32;
      BigInteger n =
          BigInteger.valueOf(hi)
              .shiftLeft(64)
              .add(BigInteger.valueOf(mid).shiftLeft(32))
              .add(BigInteger.valueOf(lo));
      assertEquals(
          n.divide(BigInteger.valueOf(d)), unsigned(WideDivision.divide96(hi, mid, lo, d)));
    }
    assertThrows(IllegalArgumentException.class, () -> WideDivision.divide96(5, 0, 0, 5));
  }

  @Test
  void renormaliseIsTheExactFloorAndStaysInRange() {
    SplittableRandom rnd = new SplittableRandom(2);
    for (int t = 0; t < 20_000; t++) {
      long width = 1 + rnd.nextLong(t % 2 == 0 ? 1L << 32 : 1000);
      long lo = rnd.nextLong((1L << 32) - width + 1);
      long top = lo + rnd.nextLong(width);
      long x = (top << 32) | (rnd.nextLong() >>> 32);
      long fresh = rnd.nextLong() >>> 32;
      BigInteger y = unsigned(x).subtract(BigInteger.valueOf(lo).shiftLeft(32));
      BigInteger expect =
          y.shiftLeft(32).add(BigInteger.valueOf(fresh)).divide(BigInteger.valueOf(width));
      assertTrue(expect.compareTo(TWO_64) < 0);
      assertEquals(expect, unsigned(CarriedCodeNoise.renormalise(x, lo, width, fresh)));
    }
    assertThrows(
        IllegalArgumentException.class, () -> CarriedCodeNoise.renormalise(5L << 32, 6, 10, 0));
  }

  /**
   * Each X' has exactly `width` preimages (Y, B): checked on a whole bucket's worth of consecutive
   * numerators, N = Y * 2^32 + B runs over [a * width, (a + m) * width) and every X' in [a, a + m)
   * must appear exactly width times.
   */
  @Test
  void renormaliseHasExactlyWidthPreimagesPerValue() {
    long width = 7;
    long lo = 123;
    long start = 5 * width * 1000; // a multiple of width: numerators aligned to X' = 5000
    int[] hits = new int[40];
    for (long n = start; n < start + 40 * width; n++) {
      long y = n >>> 32;
      long fresh = n & 0xFFFF_FFFFL;
      long x = ((lo + (y >>> 32)) << 32) + (y & 0xFFFF_FFFFL);
      hits[(int) (CarriedCodeNoise.renormalise(x, lo, width, fresh) - 5000)]++;
    }
    for (int h : hits) {
      assertEquals(width, h);
    }
  }

  @Test
  void keyedPermutationIsABijection() {
    for (int n : new int[] {1, 2, 3, 17, 1000, 4096, 32000}) {
      KeyedPermutation p = new KeyedPermutation(n, 99);
      Set<Long> seen = new HashSet<>();
      for (int i = 0; i < n; i++) {
        long y = p.apply(i);
        assertTrue(y >= 0 && y < n);
        seen.add(y);
      }
      assertEquals(n, seen.size());
    }
  }

  @Test
  void latticeCodesAreEvenlySpaced() {
    int k = 1000;
    long seed = 5;
    for (int i = 0; i + 1 < k; i++) {
      BigInteger gap =
          unsigned(LatticeCodes.initialCode(seed, i + 1, k) - LatticeCodes.initialCode(seed, i, k));
      BigInteger floor = TWO_64.divide(BigInteger.valueOf(k));
      assertTrue(gap.equals(floor) || gap.equals(floor.add(BigInteger.ONE)), "gap " + gap);
    }
  }

  @Test
  void stratifiedCodesFallOnePerStratum() {
    for (int k : new int[] {1, 3, 10, 64, 1000}) {
      long seed = 11 + k;
      boolean[] used = new boolean[k];
      for (int i = 0; i < k; i++) {
        long x = StratifiedCodes.initialCode(seed, i, k);
        // stratum of x: the s with floor(s*2^64/k) <= x < floor((s+1)*2^64/k) ~ floor(x*k/2^64)
        int s = unsigned(x).multiply(BigInteger.valueOf(k)).shiftRight(64).intValue();
        assertEquals(StratifiedCodes.stratum(seed, i, k), s);
        assertTrue(!used[s], "stratum " + s + " used twice");
        used[s] = true;
      }
    }
  }
}
