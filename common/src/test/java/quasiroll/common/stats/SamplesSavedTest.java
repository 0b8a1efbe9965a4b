package quasiroll.common.stats;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class SamplesSavedTest {
  private static final int[] KS = {1, 2, 4, 8, 16, 32, 64};

  @Test
  void interpolatesLinearlyInLogK() {
    // pass(k) = log2(k) / 10 is linear in log k, so interpolation is exact off the grid too.
    double[] pass = new double[KS.length];
    for (int i = 0; i < KS.length; i++) {
      pass[i] = Math.log(KS[i]) / Math.log(2) / 10;
    }
    SamplesSaved.Match m = SamplesSaved.iidEquivalentK(KS, pass, Math.log(12) / Math.log(2) / 10);
    assertEquals(12.0, m.iidK(), 1e-9);
    assertEquals(SamplesSaved.Bound.EXACT, m.bound());
    assertEquals(
        SamplesSaved.Bound.ABOVE_RANGE, SamplesSaved.iidEquivalentK(KS, pass, 0.7).bound());
    assertEquals(64.0, SamplesSaved.iidEquivalentK(KS, pass, 0.7).iidK(), 0.0);
    assertEquals(
        SamplesSaved.Bound.BELOW_RANGE, SamplesSaved.iidEquivalentK(KS, pass, -0.1).bound());
  }

  /**
   * Synthetic curves: each prompt j has per-sample success p_j; i.i.d. pass@k = 1-(1-p_j)^k on
   * every integer k, and a "coupled" sampler that reaches at k what i.i.d. reaches at 2k. Samples
   * saved must be 1 - k/(2k) = 1/2 at every k, and the bootstrap interval must be tight around it
   * (both curves shift together under resampling).
   */
  @Test
  void halvingSamplerSavesHalf() {
    double[] p = {0.01, 0.03, 0.05, 0.1, 0.2};
    int n = 64;
    int[] ks = new int[n];
    double[][] iid = new double[p.length][n];
    for (int i = 0; i < n; i++) {
      ks[i] = i + 1;
      for (int j = 0; j < p.length; j++) {
        iid[j][i] = 1 - Math.pow(1 - p[j], i + 1);
      }
    }
    for (int k : new int[] {2, 4, 8, 16, 32}) {
      double[] coupled = new double[p.length];
      for (int j = 0; j < p.length; j++) {
        coupled[j] = 1 - Math.pow(1 - p[j], 2 * k);
      }
      SamplesSaved.Result r = SamplesSaved.estimate(k, coupled, ks, iid, 300, 1, 0.95);
      assertEquals(2.0 * k, r.iidEquivalentK(), 1e-9, "k=" + k);
      assertEquals(0.5, r.savedFraction().estimate(), 1e-9);
      assertTrue(
          r.savedFraction().lower() > 0.45 && r.savedFraction().upper() < 0.55, r.toString());
    }
  }

  @Test
  void aCoupledPassOfOneIsSaturatedNotASaving() {
    int[] ks = {1, 2, 3, 4};
    double[][] iid = {{0.5, 0.8, 0.95, 1.0}, {0.5, 0.8, 0.95, 1.0}};
    SamplesSaved.Result r =
        SamplesSaved.estimate(2, new double[] {1.0, 1.0}, ks, iid, 100, 3, 0.95);
    assertEquals(SamplesSaved.Bound.SATURATED, r.bound());
    assertEquals(null, r.savedFraction());
  }

  @Test
  void identicalSamplersSaveNothing() {
    int[] ks = {1, 2, 3, 4};
    double[][] iid = {{0.1, 0.19, 0.27, 0.34}, {0.5, 0.75, 0.875, 0.94}};
    SamplesSaved.Result r =
        SamplesSaved.estimate(3, new double[] {0.27, 0.875}, ks, iid, 100, 3, 0.95);
    assertEquals(3.0, r.iidEquivalentK(), 1e-12);
    assertEquals(0.0, r.savedFraction().estimate(), 1e-12);
  }

  /**
   * Two prompts, i.i.d. curves (k = 1, 2) [0.5, 1] and [0, 0], coupled values 0.5 and 0.3 at k = 1.
   * Point: target 0.4 between the mean curve's 0.25 and 0.5, t = 0.6, k_iid = 2^0.6, measured.
   * Bootstrap resamples are (2,0): target 0.5 = curve start, saving 0; (1,1): as the point; (0,2):
   * target 0.3 above the curve's 0, capped at 1 - 1/2. With a quarter of the resamples at the cap,
   * the 97.5% quantile is the cap: the upper end is censored.
   */
  @Test
  void anUpperEndAtTheCapIsReportedAsCensored() {
    int[] ks = {1, 2};
    double[][] iid = {{0.5, 1.0}, {0.0, 0.0}};
    SamplesSaved.Result r =
        SamplesSaved.estimate(1, new double[] {0.5, 0.3}, ks, iid, 2000, 5, 0.95);
    assertEquals(Math.pow(2, 0.6), r.iidEquivalentK(), 1e-12);
    assertEquals(SamplesSaved.Bound.EXACT, r.bound());
    assertEquals(1 - Math.pow(2, -0.6), r.savedFraction().estimate(), 1e-12);
    assertEquals(0.5, r.savedFraction().upper(), 1e-15);
    assertEquals(0.0, r.savedFraction().lower(), 1e-15);
    assertEquals(2, r.iidMaxK());
    assertEquals(0.25, r.resamplesAboveRange(), 0.03); // binomial(2000, 1/4): sd 0.0097
    assertEquals(SamplesSaved.Censoring.UPPER_END, r.censoring());
  }

  @Test
  void aMeasuredCellInsideTheCurveIsNotCensored() {
    int[] ks = {1, 2, 3, 4};
    double[][] iid = {{0.25, 0.5, 0.75, 1.0}, {0.25, 0.5, 0.75, 1.0}};
    SamplesSaved.Result r =
        SamplesSaved.estimate(2, new double[] {0.75, 0.75}, ks, iid, 500, 5, 0.95);
    assertEquals(3.0, r.iidEquivalentK(), 1e-12);
    assertEquals(1 - 2.0 / 3, r.savedFraction().estimate(), 1e-12);
    assertEquals(0.0, r.resamplesAboveRange());
    assertEquals(SamplesSaved.Censoring.NONE, r.censoring());
    SamplesSaved.Result above =
        SamplesSaved.estimate(
            2,
            new double[] {0.75, 0.75},
            new int[] {1, 2},
            new double[][] {{0.25, 0.5}, {0.25, 0.5}},
            500,
            5,
            0.95);
    assertEquals(SamplesSaved.Censoring.ESTIMATE, above.censoring());
    assertEquals(1.0, above.resamplesAboveRange());
    SamplesSaved.Result below =
        SamplesSaved.estimate(2, new double[] {0.1, 0.1}, ks, iid, 500, 5, 0.95);
    assertEquals(SamplesSaved.Censoring.BELOW, below.censoring());
  }
}
