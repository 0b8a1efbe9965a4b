package quasiroll.common.stats;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.apache.commons.math3.distribution.BinomialDistribution;
import org.apache.commons.math3.util.CombinatoricsUtils;
import org.junit.jupiter.api.Test;

class PassAtKTest {
  @Test
  void smallCasesMatchTheBinomialFormula() {
    // 1 - C(3,2)/C(5,2) = 1 - 3/10
    assertEquals(0.7, PassAtK.unbiased(5, 2, 2), 1e-15);
    assertEquals(0.0, PassAtK.unbiased(10, 0, 3), 0.0);
    assertEquals(1.0, PassAtK.unbiased(10, 8, 3), 0.0); // n - c < k: every 3-subset passes
    assertEquals(0.4, PassAtK.unbiased(5, 2, 1), 1e-15); // pass@1 = c/n
    for (int n = 1; n <= 20; n++) {
      for (int c = 0; c <= n; c++) {
        for (int k = 1; k <= n; k++) {
          double avoid =
              n - c < k
                  ? 0
                  : CombinatoricsUtils.binomialCoefficientDouble(n - c, k)
                      / CombinatoricsUtils.binomialCoefficientDouble(n, k);
          double exact = 1 - avoid;
          assertEquals(exact, PassAtK.unbiased(n, c, k), 1e-12, "n=" + n + " c=" + c + " k=" + k);
        }
      }
    }
  }

  @Test
  void largeCountsStayFinite() {
    // C(999,500)/C(1000,500) = 500/1000; factorials would overflow a double
    assertEquals(0.5, PassAtK.unbiased(1000, 1, 500), 1e-12);
    assertEquals(1 - Math.pow(0.5, 1), PassAtK.unbiased(4096, 2048, 1), 1e-12);
  }

  @Test
  void estimatorIsUnbiasedByExactEnumeration() {
    // E over c ~ Binomial(n, p) of the estimator equals 1 - (1-p)^k exactly (up to rounding).
    for (double p : new double[] {0.01, 0.2, 0.5, 0.93}) {
      for (int n : new int[] {1, 7, 32}) {
        BinomialDistribution b = new BinomialDistribution(null, n, p);
        for (int k = 1; k <= n; k++) {
          double expectation = 0;
          for (int c = 0; c <= n; c++) {
            expectation += b.probability(c) * PassAtK.unbiased(n, c, k);
          }
          assertEquals(
              1 - Math.pow(1 - p, k), expectation, 1e-12, "p=" + p + " n=" + n + " k=" + k);
        }
      }
    }
  }

  @Test
  void unionBoundCapsAtOne() {
    assertEquals(0.3, PassAtK.unionBound(3, 0.1), 1e-15);
    assertEquals(1.0, PassAtK.unionBound(16, 0.1), 0.0);
    assertThrows(IllegalArgumentException.class, () -> PassAtK.unionBound(0, 0.1));
  }

  @Test
  void refusesImpossibleCounts() {
    assertThrows(IllegalArgumentException.class, () -> PassAtK.unbiased(4, 5, 1));
    assertThrows(IllegalArgumentException.class, () -> PassAtK.unbiased(4, 1, 5));
    assertThrows(IllegalArgumentException.class, () -> PassAtK.unbiased(4, 1, 0));
  }
}
