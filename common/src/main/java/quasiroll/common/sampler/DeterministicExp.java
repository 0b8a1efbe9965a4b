package quasiroll.common.sampler;

import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.LongVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * exp(x) for x <= 0 in double, built ONLY from IEEE-754 add, multiply and fused multiply-add
 * plus exact bit operations, so the scalar and the vector form give bit-identical results on
 * every machine (the Vector API's lanewise EXP calls a platform math library and does not).
 *
 * <p>Method: n = round(x / ln 2) by the 1.5 * 2^52 rounding trick; r = x - n ln 2 in two fma
 * steps (Cody-Waite split of ln 2), |r| <= ln(2)/2; exp(r) by its Taylor polynomial of degree
 * 13 in Horner form (truncation error < 2e-16 relative); the result is scaled by 2^n built in
 * the exponent bits. Arguments below {@link #MIN_ARG} are clamped there (2^-1021 ~ 4e-308):
 * such weights are far below the 2^-32 quantisation of the sampler and never change a choice.
 * Accuracy: within a few ulp of the true exp over [-708, 0].
 */
final class DeterministicExp {
  /** The vector shape is fixed (not the platform's preferred one), so results never depend on it. */
  static final VectorSpecies<Double> SPECIES = DoubleVector.SPECIES_256;

  static final double MIN_ARG = -708.0;
  private static final double LOG2E = 1.4426950408889634;
  private static final double LN2_HI = 6.93147180369123816490e-01;
  private static final double LN2_LO = 1.90821492927058770002e-10;
  private static final double ROUNDER = 0x1.8p52;
  private static final long ROUNDER_BITS = Double.doubleToRawLongBits(ROUNDER);
  private static final double[] TAYLOR = taylor(13);

  private DeterministicExp() {}

  private static double[] taylor(int degree) {
    double[] c = new double[degree + 1];
    double f = 1;
    for (int i = 0; i <= degree; i++) {
      if (i > 0) {
        f *= i;
      }
      c[i] = 1.0 / f;
    }
    return c;
  }

  static double exp(double x) {
    x = Math.max(x, MIN_ARG);
    double t = Math.fma(x, LOG2E, ROUNDER);
    double n = t - ROUNDER;
    double r = Math.fma(n, -LN2_HI, x);
    r = Math.fma(n, -LN2_LO, r);
    double p = TAYLOR[TAYLOR.length - 1];
    for (int i = TAYLOR.length - 2; i >= 0; i--) {
      p = Math.fma(p, r, TAYLOR[i]);
    }
    long bits = (Double.doubleToRawLongBits(t) - ROUNDER_BITS + 1023) << 52;
    return p * Double.longBitsToDouble(bits);
  }

  static DoubleVector exp(DoubleVector x) {
    x = x.max(MIN_ARG);
    DoubleVector t = x.fma(DoubleVector.broadcast(SPECIES, LOG2E), DoubleVector.broadcast(SPECIES, ROUNDER));
    DoubleVector n = t.sub(ROUNDER);
    DoubleVector r = n.fma(DoubleVector.broadcast(SPECIES, -LN2_HI), x);
    r = n.fma(DoubleVector.broadcast(SPECIES, -LN2_LO), r);
    DoubleVector p = DoubleVector.broadcast(SPECIES, TAYLOR[TAYLOR.length - 1]);
    for (int i = TAYLOR.length - 2; i >= 0; i--) {
      p = p.fma(r, DoubleVector.broadcast(SPECIES, TAYLOR[i]));
    }
    LongVector bits =
        ((LongVector) t.reinterpretAsLongs()).sub(ROUNDER_BITS - 1023).lanewise(VectorOperators.LSHL, 52);
    return p.mul(bits.reinterpretAsDoubles());
  }
}
