package quasiroll.common.qmc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.apache.commons.math3.stat.inference.ChiSquareTest;
import org.junit.jupiter.api.Test;

class LatinHypercubeTest {
  @Test
  void everyStratumHitOncePerDimension() {
    for (int n : new int[] {1, 2, 3, 37, 64, 1000}) {
      LatinHypercube lhs = new LatinHypercube(n, 5, 12345);
      for (int t = 0; t < 5; t++) {
        int[] hits = new int[n];
        for (int i = 0; i < n; i++) {
          long x = lhs.coordinate(i, t);
          int s = lhs.stratum(i, t);
          hits[s]++;
          // The coordinate lies in its stratum [s/n, (s+1)/n).
          assertTrue(Long.compareUnsigned(x, FixedPoint.fraction(s, n)) >= 0);
          assertTrue(s + 1 == n || Long.compareUnsigned(x, FixedPoint.fraction(s + 1, n)) < 0);
        }
        for (int s = 0; s < n; s++) {
          assertEquals(1, hits[s], "n=" + n + " dim " + t + " stratum " + s);
        }
      }
    }
  }

  /**
   * The stratum of a fixed point is uniform over seeds: chi-square with 6 cells, false-alarm rate
   * 1e-4.
   */
  @Test
  void stratumOfAFixedPointIsUniform() {
    int n = 6;
    long[] counts = new long[n];
    for (long seed = 0; seed < 6000; seed++) {
      counts[new LatinHypercube(n, 1, seed).stratum(0, 0)]++;
    }
    double[] expected = new double[n];
    java.util.Arrays.fill(expected, 1000);
    assertTrue(new ChiSquareTest().chiSquareTest(expected, counts) > 1e-4);
  }

  /** Two points x two dims, each two KS tests at 1e-4: family-wise false alarm <= 0.08%. */
  @Test
  void coordinatesAreUniformAcrossSeeds() {
    for (int i : new int[] {0, 6}) {
      for (int t : new int[] {0, 3}) {
        UniformityCheck.assertUniform(
            "lhs point " + i + " dim " + t,
            2000,
            seed -> new LatinHypercube(7, 4, seed).coordinate(i, t));
      }
    }
  }

  @Test
  void deterministicPerSeed() {
    LatinHypercube a = new LatinHypercube(50, 3, 9);
    LatinHypercube b = new LatinHypercube(50, 3, 9);
    for (int i = 0; i < 50; i++) {
      for (int t = 0; t < 3; t++) {
        assertEquals(a.coordinate(i, t), b.coordinate(i, t));
      }
    }
  }
}
