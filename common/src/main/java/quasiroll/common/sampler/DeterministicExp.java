package quasiroll.common.sampler;

import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.LongVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * exp(x) for x <= 0 in double, built ONLY from IEEE-754 add, multiply and fused multiply-add plus
 * exact bit operations, so the scalar and the vector form give bit-identical results on every
 * machine (the Vector API's lanewise EXP calls a platform math library and does not).
 *
 * <p>Method: n = round(x / ln 2) by the 1.5 * 2^52 rounding trick; r = x - n ln 2 in two fma steps
 * (Cody-Waite split of ln 2), |r| <= ln(2)/2; exp(r) by its Taylor polynomial of degree 13 in
 * Horner form (truncation error < 2e-16 relative); the result is scaled by 2^n built in the
 * exponent bits. Arguments below {@link #MIN_ARG} are clamped there (2^-1021 ~ 4e-308): such
 * weights are far below the 2^-32 quantisation of the sampler and never change a choice. Accuracy:
 * within a few ulp of the true exp over [-708, 0].
 */
final class DeterministicExp {
  /**
   * The vector shape is fixed (not the platform's preferred one), so results never depend on it.
   */
  static final VectorSpecies<Double> SPECIES = DoubleVector.SPECIES_256;

  static final double MIN_ARG = -708.0;
  private static final double LOG2E = 1.4426950408889634;
  private static final double LN2_HI = 6.93147180369123816490e-01;
  private static final double LN2_LO = 1.90821492927058770002e-10;
  private static final double ROUNDER = 0x1.8p52;

  /** n + 2^52 + 1023 holds n + 1023 in its low mantissa bits for integers n in [-1023, 0]. */
  private static final double EXPONENT_MAGIC = 0x1p52 + 1023;

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
    long bits = Double.doubleToRawLongBits(n + EXPONENT_MAGIC) << 52;
    return p * Double.longBitsToDouble(bits);
  }

  // Broadcast constants are hoisted into static finals and the Horner steps written out: JDK
  // 17's C2 only keeps vectors in registers when it can see every lane value as a constant
  // or a straight-line value (a loop over the coefficient array made it box every vector).
  private static final DoubleVector V_LOG2E = DoubleVector.broadcast(SPECIES, LOG2E);
  private static final DoubleVector V_ROUNDER = DoubleVector.broadcast(SPECIES, ROUNDER);
  private static final DoubleVector V_NEG_LN2_HI = DoubleVector.broadcast(SPECIES, -LN2_HI);
  private static final DoubleVector V_NEG_LN2_LO = DoubleVector.broadcast(SPECIES, -LN2_LO);
  private static final DoubleVector V_EXPONENT_MAGIC =
      DoubleVector.broadcast(SPECIES, EXPONENT_MAGIC);
  private static final DoubleVector C0 = DoubleVector.broadcast(SPECIES, TAYLOR[0]);
  private static final DoubleVector C1 = DoubleVector.broadcast(SPECIES, TAYLOR[1]);
  private static final DoubleVector C2 = DoubleVector.broadcast(SPECIES, TAYLOR[2]);
  private static final DoubleVector C3 = DoubleVector.broadcast(SPECIES, TAYLOR[3]);
  private static final DoubleVector C4 = DoubleVector.broadcast(SPECIES, TAYLOR[4]);
  private static final DoubleVector C5 = DoubleVector.broadcast(SPECIES, TAYLOR[5]);
  private static final DoubleVector C6 = DoubleVector.broadcast(SPECIES, TAYLOR[6]);
  private static final DoubleVector C7 = DoubleVector.broadcast(SPECIES, TAYLOR[7]);
  private static final DoubleVector C8 = DoubleVector.broadcast(SPECIES, TAYLOR[8]);
  private static final DoubleVector C9 = DoubleVector.broadcast(SPECIES, TAYLOR[9]);
  private static final DoubleVector C10 = DoubleVector.broadcast(SPECIES, TAYLOR[10]);
  private static final DoubleVector C11 = DoubleVector.broadcast(SPECIES, TAYLOR[11]);
  private static final DoubleVector C12 = DoubleVector.broadcast(SPECIES, TAYLOR[12]);
  private static final DoubleVector C13 = DoubleVector.broadcast(SPECIES, TAYLOR[13]);

  /**
   * 512-bit lanes, used where the hardware has them (AVX-512): the SAME operations lane by lane, so
   * every value is bit-identical to the 256-bit and scalar forms; only throughput changes. Callers
   * keep their own (fixed, 4-lane) summation order.
   */
  static final VectorSpecies<Double> WIDE = DoubleVector.SPECIES_512;

  /** True when 512-bit double vectors are native here (else the wide form would be emulated). */
  static final boolean WIDE_NATIVE = DoubleVector.SPECIES_PREFERRED.vectorBitSize() >= 512;

  private static final DoubleVector W_LOG2E = DoubleVector.broadcast(WIDE, LOG2E);
  private static final DoubleVector W_ROUNDER = DoubleVector.broadcast(WIDE, ROUNDER);
  private static final DoubleVector W_NEG_LN2_HI = DoubleVector.broadcast(WIDE, -LN2_HI);
  private static final DoubleVector W_NEG_LN2_LO = DoubleVector.broadcast(WIDE, -LN2_LO);
  private static final DoubleVector W_EXPONENT_MAGIC = DoubleVector.broadcast(WIDE, EXPONENT_MAGIC);
  private static final DoubleVector W0 = DoubleVector.broadcast(WIDE, TAYLOR[0]);
  private static final DoubleVector W1 = DoubleVector.broadcast(WIDE, TAYLOR[1]);
  private static final DoubleVector W2 = DoubleVector.broadcast(WIDE, TAYLOR[2]);
  private static final DoubleVector W3 = DoubleVector.broadcast(WIDE, TAYLOR[3]);
  private static final DoubleVector W4 = DoubleVector.broadcast(WIDE, TAYLOR[4]);
  private static final DoubleVector W5 = DoubleVector.broadcast(WIDE, TAYLOR[5]);
  private static final DoubleVector W6 = DoubleVector.broadcast(WIDE, TAYLOR[6]);
  private static final DoubleVector W7 = DoubleVector.broadcast(WIDE, TAYLOR[7]);
  private static final DoubleVector W8 = DoubleVector.broadcast(WIDE, TAYLOR[8]);
  private static final DoubleVector W9 = DoubleVector.broadcast(WIDE, TAYLOR[9]);
  private static final DoubleVector W10 = DoubleVector.broadcast(WIDE, TAYLOR[10]);
  private static final DoubleVector W11 = DoubleVector.broadcast(WIDE, TAYLOR[11]);
  private static final DoubleVector W12 = DoubleVector.broadcast(WIDE, TAYLOR[12]);
  private static final DoubleVector W13 = DoubleVector.broadcast(WIDE, TAYLOR[13]);

  /** {@link #exp(DoubleVector)} on {@link #WIDE} vectors (bit-identical lane by lane). */
  static DoubleVector expWide(DoubleVector x) {
    x = x.max(MIN_ARG);
    DoubleVector t = x.fma(W_LOG2E, W_ROUNDER);
    DoubleVector n = t.sub(W_ROUNDER);
    DoubleVector r = n.fma(W_NEG_LN2_HI, x);
    r = n.fma(W_NEG_LN2_LO, r);
    DoubleVector p = W13.fma(r, W12);
    p = p.fma(r, W11);
    p = p.fma(r, W10);
    p = p.fma(r, W9);
    p = p.fma(r, W8);
    p = p.fma(r, W7);
    p = p.fma(r, W6);
    p = p.fma(r, W5);
    p = p.fma(r, W4);
    p = p.fma(r, W3);
    p = p.fma(r, W2);
    p = p.fma(r, W1);
    p = p.fma(r, W0);
    LongVector bits =
        ((LongVector) n.add(W_EXPONENT_MAGIC).reinterpretAsLongs())
            .lanewise(VectorOperators.LSHL, 52);
    return p.mul(bits.reinterpretAsDoubles());
  }

  /** The same operations as {@link #exp(double)}, lane by lane (bit-identical results). */
  static DoubleVector exp(DoubleVector x) {
    x = x.max(MIN_ARG);
    DoubleVector t = x.fma(V_LOG2E, V_ROUNDER);
    DoubleVector n = t.sub(V_ROUNDER);
    DoubleVector r = n.fma(V_NEG_LN2_HI, x);
    r = n.fma(V_NEG_LN2_LO, r);
    DoubleVector p = C13.fma(r, C12);
    p = p.fma(r, C11);
    p = p.fma(r, C10);
    p = p.fma(r, C9);
    p = p.fma(r, C8);
    p = p.fma(r, C7);
    p = p.fma(r, C6);
    p = p.fma(r, C5);
    p = p.fma(r, C4);
    p = p.fma(r, C3);
    p = p.fma(r, C2);
    p = p.fma(r, C1);
    p = p.fma(r, C0);
    // 2^n from a fresh vector used once: reinterpreting t itself (also used above) made C2
    // box it on every iteration (JDK 17).
    LongVector bits =
        ((LongVector) n.add(V_EXPONENT_MAGIC).reinterpretAsLongs())
            .lanewise(VectorOperators.LSHL, 52);
    return p.mul(bits.reinterpretAsDoubles());
  }
}
