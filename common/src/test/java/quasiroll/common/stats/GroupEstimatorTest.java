package quasiroll.common.stats;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

class GroupEstimatorTest {
  private static SampleGroup group(double[] rewards, String... answers) {
    return new SampleGroup(rewards, answers);
  }

  @Test
  void allSubsetsClosedFormsEqualBruteForceOverEverySubset() {
    SampleGroup g =
        group(new double[] {1, 0, 0.5, 1, 0, 0, 0.5}, "a", "b", "c", "a", "b", "d", "c");
    int n = g.size();
    for (int k = 1; k <= n; k++) {
      double pass = 0;
      double distinct = 0;
      double zeroVar = 0;
      int subsets = 0;
      for (int mask = 0; mask < 1 << n; mask++) {
        if (Integer.bitCount(mask) != k) {
          continue;
        }
        int[] idx = new int[k];
        int at = 0;
        for (int i = 0; i < n; i++) {
          if ((mask >> i & 1) != 0) {
            idx[at++] = i;
          }
        }
        SampleGroup s = g.subset(idx);
        pass += s.passed() ? 1 : 0;
        distinct += s.distinctAnswers();
        zeroVar += s.zeroVariance() ? 1 : 0;
        subsets++;
      }
      GroupEstimates e = GroupEstimator.estimate(List.of(g), k, SubsetScheme.ALL_SUBSETS);
      assertEquals(pass / subsets, e.passAtK(), 1e-12, "pass@" + k);
      assertEquals(distinct / subsets, e.distinctAnswers(), 1e-12, "distinct@" + k);
      assertEquals(zeroVar / subsets, e.zeroVarianceProbability(), 1e-12, "zero variance@" + k);
    }
  }

  @Test
  void iidReplicatesArePooled() {
    SampleGroup a = group(new double[] {1, 0}, "x", "y");
    SampleGroup b = group(new double[] {0, 0}, "y", "y");
    GroupEstimates e = GroupEstimator.estimate(List.of(a, b), 2, SubsetScheme.ALL_SUBSETS);
    assertEquals(PassAtK.unbiased(4, 1, 2), e.passAtK(), 1e-15); // n = 4 pooled samples
    assertEquals(0.25, e.meanReward(), 1e-15);
    assertEquals(0.25, e.passRate(), 1e-15);
  }

  @Test
  void strideSubsetsByHand() {
    SampleGroup g = group(new double[] {1, 0, 0, 0}, "a", "b", "a", "c");
    // k=2: subsets {0,2} (passes, answers a,a) and {1,3} (fails, answers b,c)
    GroupEstimates k2 = GroupEstimator.estimate(List.of(g), 2, SubsetScheme.STRIDE);
    assertEquals(0.5, k2.passAtK(), 0.0);
    assertEquals(1.5, k2.distinctAnswers(), 0.0);
    assertEquals(0.5, k2.zeroVarianceProbability(), 0.0); // {1,3} has rewards 0,0
    assertEquals(0.25, GroupEstimator.estimate(List.of(g), 1, SubsetScheme.STRIDE).passAtK(), 0.0);
    assertEquals(1.0, GroupEstimator.estimate(List.of(g), 4, SubsetScheme.STRIDE).passAtK(), 0.0);
    assertThrows(
        IllegalArgumentException.class,
        () -> GroupEstimator.estimate(List.of(g), 3, SubsetScheme.STRIDE));
  }

  /**
   * A randomized lattice of size k hits a success interval of length l with probability exactly
   * min(1, k l). Averaging the stride estimator from a lattice of K = 16 over every shift of a fine
   * grid (midpoints of K*M cells, interval ends on cell boundaries) gives that expectation exactly:
   * the estimator is unbiased for every k = 2^j.
   */
  @Test
  void strideEstimatorIsUnbiasedForARandomizedLattice() {
    int bigK = 16;
    int cellsPerPoint = 8;
    int cells = bigK * cellsPerPoint;
    int a = 37;
    int len = 5; // success iff code in [a, a + len) / cells
    for (int k = 1; k <= bigK; k *= 2) {
      double sum = 0;
      for (int j = 0; j < cells; j++) {
        double shift = (j + 0.5) / cells;
        double[] rewards = new double[bigK];
        String[] answers = new String[bigK];
        for (int i = 0; i < bigK; i++) {
          double code = (i / (double) bigK + shift) % 1.0;
          int cell = (int) Math.floor(code * cells);
          rewards[i] = cell >= a && cell < a + len ? 1 : 0;
          answers[i] = Integer.toString(cell);
        }
        sum +=
            GroupEstimator.estimate(List.of(group(rewards, answers)), k, SubsetScheme.STRIDE)
                .passAtK();
      }
      double exact = Math.min(1, k * (double) len / cells);
      assertEquals(exact, sum / cells, 1e-12, "k=" + k);
    }
  }

  @Test
  void wholeGroupsAverageReplicatesAndRefuseOtherSizes() {
    SampleGroup a = group(new double[] {1, 0, 1}, "x", "y", "x");
    SampleGroup b = group(new double[] {0, 0, 0}, "y", "y", "z");
    GroupEstimates e = GroupEstimator.estimate(List.of(a, b), 3, SubsetScheme.WHOLE_GROUP);
    assertEquals(0.5, e.passAtK(), 0.0);
    assertEquals(2.0, e.distinctAnswers(), 0.0);
    assertEquals(0.5, e.zeroVarianceProbability(), 0.0);
    assertFalse(GroupEstimator.canDerive(SubsetScheme.WHOLE_GROUP, 3, 2));
    assertTrue(GroupEstimator.canDerive(SubsetScheme.ALL_SUBSETS, 3, 2));
    assertFalse(GroupEstimator.canDerive(SubsetScheme.STRIDE, 12, 4));
  }

  @Test
  void advantagesByHand() {
    double[] r = {1, 0, 0, 0};
    double std = Math.sqrt(0.25 * 0.75);
    double[] g = GroupAdvantages.grpo(r);
    assertEquals(0.75 / (std + 1e-6), g[0], 1e-12);
    assertEquals(-0.25 / (std + 1e-6), g[1], 1e-12);
    double[] l = GroupAdvantages.rloo(r);
    assertEquals(1.0, l[0], 1e-15);
    assertEquals(-1.0 / 3, l[2], 1e-15);
    assertEquals(0.0, GroupAdvantages.grpo(new double[] {0.5, 0.5})[1], 0.0);
    assertTrue(group(new double[] {0.5, 0.5}, "a", "b").zeroVariance());
    assertEquals(2, group(new double[] {0.5, 0.5}, "a", "b").distinctAnswers());
  }
}
