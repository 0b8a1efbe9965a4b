package quasiroll.common.qmc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

/**
 * Reference values from scipy 1.10.1: scipy.stats.qmc.Sobol(d=1000, scramble=False).random(n)
 * (scipy's default 30 bits, so values times 2^30 are integers), generated once with
 * /usr/bin/python3 and embedded here.
 */
class SobolSequenceTest {
  private static final int[] DIMS = {0, 1, 2, 3, 9, 99, 499, 998, 999};
  private static final int[] INDICES = {
    0, 1, 2, 3, 5, 8, 13, 100, 1000, 4095, 65535, 123456, 1048575
  };

  /** scipy point INDICES[r], dimension DIMS[c], times 2^30. */
  private static final long[][] SCIPY_TIMES_2_30 = {
    {0, 0, 0, 0, 0, 0, 0, 0, 0}, // i=0
    {
      536870912, 536870912, 536870912, 536870912, 536870912, 536870912, 536870912, 536870912,
      536870912
    }, // i=1
    {
      805306368, 268435456, 268435456, 268435456, 805306368, 805306368, 268435456, 268435456,
      805306368
    }, // i=2
    {
      268435456, 805306368, 805306368, 805306368, 268435456, 268435456, 805306368, 805306368,
      268435456
    }, // i=3
    {
      939524096, 939524096, 134217728, 402653184, 134217728, 402653184, 134217728, 134217728,
      671088640
    }, // i=5
    {
      201326592,
      335544320,
      1006632960,
      469762048,
      335544320,
      1006632960,
      469762048,
      603979776,
      1006632960
    }, // i=8
    {
      872415232, 738197504, 872415232, 67108864, 469762048, 603979776, 335544320, 738197504,
      335544320
    }, // i=13
    {
      444596224, 276824064, 830472192, 780140544, 746586112, 947912704, 528482304, 343932928,
      981467136
    }, // i=100
    {
      235929600, 103809024, 556793856, 726663168, 74448896, 200278016, 273678336, 586153984,
      214958080
    }, // i=1000
    {
      262144,
      1010565120,
      358875136,
      968097792,
      264503296,
      1033633792,
      1007943680,
      911998976,
      331087872
    }, // i=4095
    {
      16384, 1073725440, 605372416, 817971200, 175980544, 507625472, 433635328, 808402944, 696664064
    }, // i=65535
    {
      28450816,
      196222976,
      329916416,
      483516416,
      267427840,
      994041856,
      986587136,
      378150912,
      1031462912
    }, // i=123456
    {
      1024, 1006648320, 828646400, 494291968, 444587008, 38138880, 736668672, 713071616, 51878912
    }, // i=1048575
  };

  /** scipy's first 16 points in dimensions 0..4, times 16. */
  private static final int[][] FIRST_16_TIMES_16 = {
    {0, 8, 12, 4, 6, 14, 10, 2, 3, 11, 15, 7, 5, 13, 9, 1},
    {0, 8, 4, 12, 6, 14, 2, 10, 5, 13, 1, 9, 3, 11, 7, 15},
    {0, 8, 4, 12, 10, 2, 14, 6, 15, 7, 11, 3, 5, 13, 1, 9},
    {0, 8, 4, 12, 14, 6, 10, 2, 7, 15, 3, 11, 9, 1, 13, 5},
    {0, 8, 12, 4, 6, 14, 10, 2, 9, 1, 5, 13, 15, 7, 3, 11},
  };

  @Test
  void firstPointsMatchScipyUnscrambled() {
    SobolSequence s = new SobolSequence(16, 5);
    for (int j = 0; j < 5; j++) {
      for (int i = 0; i < 16; i++) {
        assertEquals(
            FIRST_16_TIMES_16[j][i] / 16.0, s.coordinateDouble(i, j), "point " + i + " dim " + j);
      }
    }
  }

  @Test
  void deepPointsMatchScipyBitForBit() {
    SobolSequence s = new SobolSequence(1 << 21, 1000);
    for (int r = 0; r < INDICES.length; r++) {
      for (int c = 0; c < DIMS.length; c++) {
        assertEquals(
            SCIPY_TIMES_2_30[r][c] << 34,
            s.coordinate(INDICES[r], DIMS[c]),
            "point " + INDICES[r] + " dim " + DIMS[c]);
      }
    }
  }

  @Test
  void firstTwoDimensionsFormZeroMTwoNets() {
    for (int m = 1; m <= 10; m++) {
      NetProperty.assertZeroMTwoNet(new SobolSequence(1 << m, 2), m, 0, 1);
    }
  }

  @Test
  void everyOneDimensionalProjectionOfAPowerOfTwoPrefixIsTheGrid() {
    int m = 6;
    SobolSequence s = new SobolSequence(1 << m, 1000);
    for (int j = 0; j < 1000; j++) {
      boolean[] hit = new boolean[1 << m];
      for (int i = 0; i < 1 << m; i++) {
        long x = s.coordinate(i, j);
        assertEquals(0, x << m, "dim " + j + " point " + i + " off the grid");
        hit[(int) (x >>> (64 - m))] = true;
      }
      for (int c = 0; c < 1 << m; c++) {
        assertEquals(true, hit[c], "dim " + j + " misses cell " + c);
      }
    }
  }

  @Test
  void dimensionLimit() {
    assertThrows(IllegalArgumentException.class, () -> new SobolSequence(4, 1001));
    assertThrows(IndexOutOfBoundsException.class, () -> new SobolSequence(4, 2).coordinate(4, 0));
  }
}
