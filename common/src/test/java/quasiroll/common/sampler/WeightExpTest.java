package quasiroll.common.sampler;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/**
 * The float weight exp against the true exp: the documented relative error bound on a dense sample
 * of every float in [-22.25, 0] (the bound was checked on all 1.1e9 of them once; this re-checks
 * every 97th bit pattern, ~11 million values), and the exact values at 0 and at the cut-off.
 */
class WeightExpTest {
  @Test
  void withinTheDocumentedRelativeErrorOnADenseSampleOfTheRange() {
    int last = Float.floatToRawIntBits(WeightExp.CUT);
    double worst = 0;
    float at = 0;
    for (int bits = 0; bits <= last; bits += 97) {
      float a = -Float.intBitsToFloat(bits);
      double err = Math.abs(WeightExp.scaled(a) / (StrictMath.exp(a) * 0x1p40) - 1);
      if (err > worst) {
        worst = err;
        at = a;
      }
    }
    assertTrue(
        worst <= WeightExp.MAX_REL_ERROR,
        "relative error " + worst + " at a = " + at + " above " + WeightExp.MAX_REL_ERROR);
  }

  @Test
  void exactAtZeroAndZeroBelowTheCutOff() {
    assertEquals(1L << 40, WeightExp.weight(0f));
    assertEquals(1L << 40, WeightExp.weight(-0f));
    assertTrue(WeightExp.weight(-WeightExp.CUT) > 0, "a = -22.25 is kept");
    assertEquals(0L, WeightExp.weight(Math.nextDown(-WeightExp.CUT)));
    assertEquals(0L, WeightExp.weight(Float.NEGATIVE_INFINITY));
    assertEquals(0L, WeightExp.weight(Float.NaN));
    assertEquals(0L, WeightExp.weight(-1e30f));
    // e^-22.25 < 2^-32: a cut token's exact probability is below 2^-32 (the max has weight 1)
    assertTrue(StrictMath.exp(-WeightExp.CUT * (1 + 0x1p-22)) < 0x1p-32);
    // invT: 1 stays 1; tiny temperatures clamp to Float.MAX_VALUE so that 0 * invT = 0
    assertEquals(1f, WeightExp.invTemperature(1.0));
    assertEquals(Float.MAX_VALUE, WeightExp.invTemperature(1e-300));
    assertEquals(0f, WeightExp.arg(5f, 5f, WeightExp.invTemperature(1e-300)));
  }
}
