package quasiroll.common.qmc;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LatticeTest {
  @Test
  void oneDimLatticeIsIOverN() {
    OneDimLattice l = new OneDimLattice(7);
    for (int i = 0; i < 7; i++) {
      assertEquals((double) i / 7, l.coordinateDouble(i, 0));
      BigInteger floor = BigInteger.valueOf(i).shiftLeft(64).divide(BigInteger.valueOf(7));
      assertEquals(floor.longValue(), l.coordinate(i, 0));
    }
  }

  @Test
  void rank1ReferencePoints() {
    // Fibonacci lattice n=8, z=(1,3): points (i/8, frac(3i/8)).
    Rank1Lattice l = new Rank1Lattice(8, new int[] {1, 3});
    double[] second = {0, 0.375, 0.75, 0.125, 0.5, 0.875, 0.25, 0.625};
    for (int i = 0; i < 8; i++) {
      assertEquals(i / 8.0, l.coordinateDouble(i, 0));
      assertEquals(second[i], l.coordinateDouble(i, 1));
      assertEquals(FixedPoint.fraction((3L * i) % 8, 8), l.coordinate(i, 1));
    }
  }

  @Test
  void cbcPicksTheBestUnitForEachComponent() {
    for (int n : new int[] {31, 64, 90}) {
      int[] z = CbcConstruction.extend(n, new int[0], 4);
      assertEquals(1, z[0]);
      for (int s = 1; s < z.length; s++) {
        int[] prefix = java.util.Arrays.copyOf(z, s + 1);
        double chosen = CbcConstruction.squaredError(n, prefix);
        for (int c = 1; c < n; c++) {
          if (BigInteger.valueOf(c).gcd(BigInteger.valueOf(n)).intValue() != 1) {
            continue;
          }
          prefix[s] = c;
          double other = CbcConstruction.squaredError(n, prefix);
          assertTrue(
              chosen <= other * (1 + 1e-12),
              "n=" + n + " s=" + s + " z=" + z[s] + " beaten by " + c);
        }
        assertEquals(1, BigInteger.valueOf(z[s]).gcd(BigInteger.valueOf(n)).intValue());
      }
    }
  }

  @Test
  void cbcIsGreedySoLongerVectorsExtendShorterOnes() {
    int[] four = CbcConstruction.extend(60, new int[0], 4);
    int[] eight = CbcConstruction.extend(60, new int[0], 8);
    assertArrayEquals(four, java.util.Arrays.copyOf(eight, 4));
    assertArrayEquals(eight, CbcConstruction.extend(60, four, 8));
  }

  @Test
  void cbcBeatsTheDiagonalLattice() {
    int[] z = CbcConstruction.extend(127, new int[0], 6);
    assertTrue(
        CbcConstruction.squaredError(127, z)
            < 0.5 * CbcConstruction.squaredError(127, new int[] {1, 1, 1, 1, 1, 1}));
  }

  @Test
  void fileCacheRoundTrips(@TempDir Path dir) throws Exception {
    String old = System.getProperty("quasiroll.cache-dir");
    System.setProperty("quasiroll.cache-dir", dir.toString());
    try {
      int n = 211; // a size no other test uses, so the memory cache starts empty for it
      int[] z = CbcConstruction.generatingVector(n, 5);
      assertArrayEquals(CbcConstruction.extend(n, new int[0], 5), z);
      Path file = dir.resolve("rank1-cbc").resolve("n" + n + ".txt");
      assertTrue(Files.isRegularFile(file));
      assertTrue(Files.readString(file).contains("n=" + n));
      assertArrayEquals(java.util.Arrays.copyOf(z, 3), CbcConstruction.generatingVector(n, 3));
    } finally {
      if (old == null) {
        System.clearProperty("quasiroll.cache-dir");
      } else {
        System.setProperty("quasiroll.cache-dir", old);
      }
    }
  }

  @Test
  void stridedSubsetIsAShiftedSmallerLattice() {
    Rank1Lattice full = new Rank1Lattice(16, new int[] {1, 5, 7});
    Rank1Lattice half = new Rank1Lattice(8, new int[] {1, 5, 7});
    for (int r = 0; r < 2; r++) {
      for (int m = 0; m < 8; m++) {
        for (int j = 0; j < 3; j++) {
          assertEquals(
              half.coordinateDouble(m, j),
              (full.coordinateDouble(r + 2 * m, j) - full.coordinateDouble(r, j) + 1) % 1.0,
              0.0);
        }
      }
    }
  }
}
