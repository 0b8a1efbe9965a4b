package quasiroll.common.qmc;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.function.LongUnaryOperator;
import org.apache.commons.math3.distribution.UniformRealDistribution;
import org.apache.commons.math3.stat.inference.KolmogorovSmirnovTest;

/**
 * Kolmogorov-Smirnov checks that a 64-bit code is uniform across randomizations, on its top 53 bits
 * and (separately) on its low 32 bits, the bits a point with 32 significant digits leaves to the
 * randomization. Each call makes two tests at level {@value #ALPHA}.
 */
public final class UniformityCheck {
  /**
   * Per-test false-alarm rate; callers state the family-wise rate as (number of calls) * 2 * ALPHA.
   */
  static final double ALPHA = 1e-4;

  private UniformityCheck() {}

  /** codeOfSeed maps a randomization seed to the code of one fixed point coordinate. */
  public static void assertUniform(String what, int replicates, LongUnaryOperator codeOfSeed) {
    double[] high = new double[replicates];
    double[] low = new double[replicates];
    for (int r = 0; r < replicates; r++) {
      long code = codeOfSeed.applyAsLong(0xC0FFEEL * 1_000_003L + r);
      high[r] = FixedPoint.toDouble(code);
      low[r] = FixedPoint.toDouble(code << 32);
    }
    KolmogorovSmirnovTest ks = new KolmogorovSmirnovTest();
    UniformRealDistribution u = new UniformRealDistribution(0, 1);
    double pHigh = ks.kolmogorovSmirnovTest(u, high);
    double pLow = ks.kolmogorovSmirnovTest(u, low);
    assertTrue(pHigh > ALPHA, what + ": top bits not uniform, KS p=" + pHigh);
    assertTrue(pLow > ALPHA, what + ": low 32 bits not uniform, KS p=" + pLow);
  }
}
