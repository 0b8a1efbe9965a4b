package quasiroll.common.sampler;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;

/**
 * The sampler's token weight, W = rint(2^40 * E(a)) (nearest integer, ties to even) for a scaled
 * logit a = (x - m) * (1/T) <= 0, built ONLY from IEEE-754 binary32 subtract, multiply and fused
 * multiply-add plus exact bit operations, so the scalar form, every Vector API shape and the CUDA
 * port give the same bits on every machine (no Math.exp, no platform math library).
 *
 * <p><b>Cut-off.</b> a < -{@link #CUT} (including -inf) gives W = 0: e^-22.25 < 2.18e-10 < 2^-32,
 * so such a token's exact softmax probability is below 2^-32 (the sum of exact weights is >= 1).
 *
 * <p><b>E(a) for a in [-22.25, 0]</b>: n = round(a * log2 e) by the 1.5 * 2^23 rounding trick (n in
 * [-32, 0]); r = a - n ln 2 in two fma steps (Cody-Waite split of ln 2); exp(r) by its Taylor
 * polynomial of degree 7 in Horner form (float coefficients); the result p in [0.70, 1.42] is
 * scaled by 2^(n + 40) by adding n + 40 to its exponent bits. So E(0) = 1 and W = 2^40 exactly for
 * the most probable token. Accuracy: |E(a) / exp(a) - 1| <= {@link #MAX_REL_ERROR} for every float
 * a in [-22.25, 0] (checked exhaustively, all 1.1e9 of them; {@code WeightExpTest} re-checks a
 * dense sample).
 */
public final class WeightExp {
  /** Scaled logits below -CUT get weight 0. */
  public static final float CUT = 22.25f;

  /** Weights are fixed point with this many fraction bits: W = 2^40 for the most probable token. */
  public static final int SCALE_BITS = 40;

  /** Proven (exhaustively checked) relative error bound of E against the true exp on [-CUT, 0]. */
  public static final double MAX_REL_ERROR = 0x1p-23;

  static final float LOG2E = 1.44269504f;
  static final float LN2_HI = 0.693359375f; // 355/512: n * LN2_HI is exact for |n| <= 2^15
  static final float LN2_LO = -2.12194440e-4f;

  /** 1.5 * 2^23 + 40: t = fma(a, log2e, ROUNDER) holds n + 40 in its low mantissa bits. */
  static final float ROUNDER = 12582912f + SCALE_BITS;

  static final float C0 = 1f;
  static final float C1 = 1f;
  static final float C2 = 0.5f;
  static final float C3 = (float) (1.0 / 6);
  static final float C4 = (float) (1.0 / 24);
  static final float C5 = (float) (1.0 / 120);
  static final float C6 = (float) (1.0 / 720);
  static final float C7 = (float) (1.0 / 5040);

  private WeightExp() {}

  /** The scaled logit a = (x - m) * invT in binary32 (both operations rounded to nearest). */
  public static float arg(float x, float m, float invT) {
    return (x - m) * invT;
  }

  /**
   * 1/T as the sampler uses it: (float) (1.0 / T), with values above Float.MAX_VALUE (T below
   * ~3e-39) clamped to Float.MAX_VALUE so that the most probable token keeps a = 0 * invT = 0.
   */
  public static float invTemperature(double temperature) {
    return (float) Math.min(1.0 / temperature, Float.MAX_VALUE);
  }

  /** 2^40 * E(a) as a float (exact scaling), or 0 when a < -CUT (or a is NaN). */
  public static float scaled(float a) {
    if (!(a >= -CUT)) {
      return 0f;
    }
    float t = Math.fma(a, LOG2E, ROUNDER);
    float n = t - ROUNDER;
    float r = Math.fma(n, -LN2_HI, a);
    r = Math.fma(n, -LN2_LO, r);
    float p = Math.fma(C7, r, C6);
    p = Math.fma(p, r, C5);
    p = Math.fma(p, r, C4);
    p = Math.fma(p, r, C3);
    p = Math.fma(p, r, C2);
    p = Math.fma(p, r, C1);
    p = Math.fma(p, r, C0);
    return Float.intBitsToFloat(Float.floatToRawIntBits(p) + (Float.floatToRawIntBits(t) << 23));
  }

  /** The integer weight W = rint(2^40 * E(a)) (nearest, ties to even; 0 below the cut-off). */
  public static long weight(float a) {
    return integer(scaled(a));
  }

  /** rint(v) for v >= 0: the nearest integer, ties to even (the same as Math.rint). */
  public static long integer(float v) {
    return (long) rintFloat(v);
  }

  /**
   * rint(v) as a float for 0 <= v: below 2^23, v + 2^23 rounds to an integer (ulp 1, ties to even)
   * and subtracting 2^23 is exact; from 2^23 on every float is an integer.
   */
  static float rintFloat(float v) {
    return v < 0x1p23f ? (v + 0x1p23f) - 0x1p23f : v;
  }

  /**
   * {@link #scaled(float)} lane by lane (the same operations, so bit-identical results) for any
   * float species.
   */
  static FloatVector scaled(FloatVector a) {
    VectorMask<Float> keep = a.compare(VectorOperators.GE, -CUT);
    FloatVector t = a.fma(LOG2E, ROUNDER);
    FloatVector n = t.sub(ROUNDER);
    FloatVector r = n.fma(a.broadcast(-LN2_HI), a);
    r = n.fma(a.broadcast(-LN2_LO), r);
    FloatVector p = a.broadcast(C7).fma(r, a.broadcast(C6));
    p = p.fma(r, a.broadcast(C5));
    p = p.fma(r, a.broadcast(C4));
    p = p.fma(r, a.broadcast(C3));
    p = p.fma(r, a.broadcast(C2));
    p = p.fma(r, a.broadcast(C1));
    p = p.fma(r, a.broadcast(C0));
    IntVector bits =
        ((IntVector) p.reinterpretAsInts())
            .add(((IntVector) t.reinterpretAsInts()).lanewise(VectorOperators.LSHL, 23));
    return a.broadcast(0f).blend(bits.reinterpretAsFloats(), keep);
  }
}
