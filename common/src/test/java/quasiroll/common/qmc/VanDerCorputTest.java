package quasiroll.common.qmc;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

class VanDerCorputTest {
  @Test
  void base2ReferenceValues() {
    double[] expected = {0, 0.5, 0.25, 0.75, 0.125, 0.625, 0.375, 0.875, 0.0625};
    VanDerCorput v = new VanDerCorput(expected.length);
    for (int i = 0; i < expected.length; i++) {
      assertEquals(expected[i], v.coordinateDouble(i, 0), "i=" + i);
      assertEquals(expected[i], VanDerCorput.radicalInverse(2, i), "i=" + i);
    }
  }

  @Test
  void otherBases() {
    // 5 = 12 in base 3 -> 0.21 = 2/3 + 1/9; 7 = 21 -> 0.12 = 1/3 + 2/9; 10 = 20 in base 5 -> 0.02.
    assertEquals(7.0 / 9, VanDerCorput.radicalInverse(3, 5), 1e-15);
    assertEquals(5.0 / 9, VanDerCorput.radicalInverse(3, 7), 1e-15);
    assertEquals(2.0 / 25, VanDerCorput.radicalInverse(5, 10), 1e-15);
  }

  @Test
  void prefixOfPowerOfTwoIsTheSmallerLattice() {
    VanDerCorput v = new VanDerCorput(64);
    for (int m = 0; m <= 6; m++) {
      boolean[] hit = new boolean[1 << m];
      for (int i = 0; i < (1 << m); i++) {
        long x = v.coordinate(i, 0);
        assertEquals(0, m == 0 ? x : x << m, "point " + i + " is not on the 2^" + m + " grid");
        hit[m == 0 ? 0 : (int) (x >>> (64 - m))] = true;
      }
      for (boolean h : hit) {
        assertEquals(true, h);
      }
    }
  }
}
