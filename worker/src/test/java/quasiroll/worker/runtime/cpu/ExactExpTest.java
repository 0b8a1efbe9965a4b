package quasiroll.worker.runtime.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The vectorised SiLU and softmax exponentials return exactly the scalar code's floats: on special
 * values (zeros, infinities, NaN, subnormals, the exp overflow and underflow edges), on random bit
 * patterns (every exponent) and on activations of realistic size, repeated so that the compiled
 * (C2) code is checked as well as the interpreter's.
 */
class ExactExpTest {
  private static final float[] SPECIAL = {
    0f,
    -0f,
    1f,
    -1f,
    Float.MIN_VALUE,
    -Float.MIN_VALUE,
    Float.MIN_NORMAL,
    -Float.MIN_NORMAL,
    Float.MAX_VALUE,
    -Float.MAX_VALUE,
    Float.POSITIVE_INFINITY,
    Float.NEGATIVE_INFINITY,
    Float.NaN,
    -87.33655f,
    -88.72284f,
    -103.97208f,
    -745.1332f,
    -709.78f,
    -709.79f,
    709.78f,
    88.72284f,
    36.7f,
    -36.7f,
    17.0f,
    -17.0f,
    1e-8f,
    -1e-8f,
    3.4e38f,
    -3.4e38f
  };

  @Test
  void siluMatchesScalarBitForBit() {
    Random rnd = new Random(3);
    int n = 4096 + 5;
    float[] g = new float[n];
    float[] u = new float[n];
    for (int round = 0; round < 300; round++) {
      for (int i = 0; i < n; i++) {
        g[i] =
            switch (i % 3) {
              case 0 -> Float.intBitsToFloat(rnd.nextInt());
              case 1 -> (float) rnd.nextGaussian() * 4f;
              default -> SPECIAL[rnd.nextInt(SPECIAL.length)] * (rnd.nextBoolean() ? 1f : 0.999f);
            };
        u[i] = i % 7 == 0 ? Float.intBitsToFloat(rnd.nextInt()) : (float) rnd.nextGaussian();
      }
      float[] want = new float[n];
      for (int i = 0; i < n; i++) {
        want[i] = ExactExp.siluTimes(g[i], u[i]);
      }
      int from = round % 3;
      float[] got = g.clone();
      ExactExp.siluTimes(got, u, from, n);
      for (int i = from; i < n; i++) {
        assertEquals(
            Float.floatToRawIntBits(want[i]),
            Float.floatToRawIntBits(got[i]),
            "silu(" + g[i] + ") * " + u[i] + " round " + round);
      }
    }
  }

  @Test
  void expShiftedMatchesScalarBitForBit() {
    Random rnd = new Random(4);
    int n = 1000 + 3;
    float[] x = new float[n];
    int nonTrivial = 0;
    for (int round = 0; round < 500; round++) {
      float shift = round % 5 == 0 ? 0f : (float) rnd.nextGaussian() * 10f;
      for (int i = 0; i < n; i++) {
        x[i] =
            switch (i % 3) {
              case 0 -> Float.intBitsToFloat(rnd.nextInt());
              case 1 -> shift - (float) Math.abs(rnd.nextGaussian() * 20);
              default -> SPECIAL[rnd.nextInt(SPECIAL.length)];
            };
      }
      float[] got = x.clone();
      ExactExp.expShifted(got, 0, n, shift);
      for (int i = 0; i < n; i++) {
        float want = (float) Math.exp(x[i] - shift);
        if (want != 0f && want != 1f && !Float.isInfinite(want) && !Float.isNaN(want)) {
          nonTrivial++;
        }
        assertEquals(
            Float.floatToRawIntBits(want),
            Float.floatToRawIntBits(got[i]),
            "exp(" + x[i] + " - " + shift + ")");
      }
    }
    assertTrue(nonTrivial > 100_000, "too few ordinary values checked: " + nonTrivial);
  }
}
