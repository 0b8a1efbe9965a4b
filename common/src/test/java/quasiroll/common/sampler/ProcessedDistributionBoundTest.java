package quasiroll.common.sampler;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * The documented distance between the processed distribution and the exact softmax
 * (docs/samplers.md): total variation <= V * 2^-32 + 4.2e-6 without truncation, every token cut off
 * (a < -22.25) has exact probability < 2^-32 and gets f = 0, so the cut mass is below (number cut)
 * * 2^-32. Checked on adversarial rows against the softmax computed in double (StrictMath.exp,
 * relative error ~1e-15, far below the bound). Exact claims, checked exactly on every row.
 */
class ProcessedDistributionBoundTest {
  private static final double TWO_32 = 0x1p32;
  private final CoupledTokenSampler sampler = new CoupledTokenSampler();

  private static double bound(int vocab) {
    return vocab * 0x1p-32 + 4.2e-6;
  }

  private static DecodeParams temperature(double t) {
    return new DecodeParams(t, 0, 1.0, 0.0, VocabOrder.ID, 16, List.of(), List.of());
  }

  /** Checks the bound on one row; returns the total variation. */
  private double check(float[] x, double t, String what) {
    int n = x.length;
    long[] f = sampler.quantisedWeights(x, 0, n, temperature(t));
    double m = Double.NEGATIVE_INFINITY;
    for (float v : x) {
      m = Math.max(m, v);
    }
    double[] p = new double[n];
    double z = 0;
    for (int j = 0; j < n; j++) {
      p[j] = StrictMath.exp(((double) x[j] - m) / t);
      z += p[j];
    }
    long total = 0;
    double tv = 0;
    double cutMass = 0;
    int cut = 0;
    for (int j = 0; j < n; j++) {
      p[j] /= z;
      total += f[j];
      tv += Math.abs(p[j] - f[j] / TWO_32);
      if (((double) x[j] - m) / t < -WeightExp.CUT * (1 + 0x1p-22)) {
        // certainly below the cut-off whatever the float rounding of the argument
        assertEquals(0, f[j], what + ": token " + j + " below the cut-off has f > 0");
      }
      if (WeightExp.weight(WeightExp.arg(x[j], (float) m, WeightExp.invTemperature(t))) == 0) {
        assertTrue(p[j] < 0x1p-32, what + ": cut token " + j + " has probability " + p[j]);
        assertEquals(0, f[j], what + ": cut token " + j + " has f > 0");
        cutMass += p[j];
        cut++;
      }
    }
    tv /= 2;
    assertEquals(1L << 32, total, what + ": quanta do not sum to 2^32");
    assertTrue(cutMass <= cut * 0x1p-32, what + ": cut mass " + cutMass + " for " + cut);
    assertTrue(tv <= bound(n), what + ": total variation " + tv + " > bound " + bound(n));
    return tv;
  }

  @Test
  void flatRowsUpToTheLargestVocabularyAreExactlyUniform() {
    for (int n : new int[] {1, 3, 1000, 1 << 16, CoupledTokenSampler.MAX_VOCAB}) {
      float[] x = new float[n];
      Arrays.fill(x, -7.5f);
      check(x, 1.0, "flat " + n);
      long[] f = sampler.quantisedWeights(x, 0, n, DecodeParams.DEFAULT);
      long min = Arrays.stream(f).min().orElseThrow();
      long max = Arrays.stream(f).max().orElseThrow();
      assertTrue(max - min <= 1, "flat row of " + n + ": quanta " + min + ".." + max);
    }
  }

  @Test
  void oneDominantTokenAndTiesAtTheCutOff() {
    int n = 151_936;
    float[] x = new float[n];
    Arrays.fill(x, -30f); // all cut: the dominant token gets everything
    x[12_345] = 0f;
    check(x, 1.0, "dominant");
    assertEquals(1L << 32, sampler.quantisedWeights(x, 0, n, DecodeParams.DEFAULT)[12_345]);
    // ties exactly at the cut-off (kept) and one float below it (cut)
    float at = -WeightExp.CUT;
    for (int j = 0; j < n; j++) {
      x[j] = j % 3 == 0 ? at : j % 3 == 1 ? Math.nextDown(at) : -1e30f;
    }
    x[7] = 0f;
    check(x, 1.0, "ties at the cut-off");
    long[] f = sampler.quantisedWeights(x, 0, n, DecodeParams.DEFAULT);
    long kept = 0;
    for (int j = 0; j < n; j++) {
      if (j != 7 && f[j] > 0) {
        assertEquals(0, j % 3, "only tokens exactly at the cut-off are kept: " + j);
      }
      kept += j % 3 == 0 ? f[j] : 0;
    }
    assertTrue(kept > 0, "tokens at the cut-off carry their mass");
  }

  @Test
  void randomAndAdversarialRowsAtSeveralTemperatures() {
    SplittableRandom r = new SplittableRandom(0x13_0013L);
    double worst = 0;
    for (int trial = 0; trial < 40; trial++) {
      int n = trial == 39 ? 1 << 20 : trial % 3 == 0 ? 151_936 : 1 + r.nextInt(40_000);
      float[] x = new float[n];
      double scale = 0.5 + r.nextDouble() * 6;
      for (int j = 0; j < n; j++) {
        x[j] =
            switch (trial % 5) {
              case 0 -> (float) (r.nextGaussian() * scale); // LLM-like
              case 1 -> r.nextInt(8) == 0 ? Float.NEGATIVE_INFINITY : (float) r.nextGaussian();
              case 2 -> (float) (r.nextInt(40) * -0.75); // many ties, some at/below the cut
              case 3 -> (float) (-r.nextDouble() * 30); // spread across the cut-off
              default -> (float) (1e4 + r.nextGaussian() * 4); // large logits
            };
      }
      x[r.nextInt(n)] = (float) (x[0] == Float.NEGATIVE_INFINITY ? 3 : Math.abs(x[0]) + 10);
      double t = new double[] {1.0, 0.7, 0.05, 1.5, 4.0}[trial % 5 == 4 ? 0 : r.nextInt(5)];
      worst = Math.max(worst, check(x, t, "trial " + trial + " vocab " + n + " T " + t));
    }
    assertTrue(worst > 0, "some row must differ from the exact softmax at all");
  }

  @Test
  void nanRowsAndOversizedVocabulariesAreRefused() {
    float[] nan = {0f, Float.NaN, 1f};
    assertThrows(
        IllegalStateException.class,
        () -> sampler.quantisedWeights(nan, 0, 3, DecodeParams.DEFAULT));
    float[] huge = new float[CoupledTokenSampler.MAX_VOCAB + 1];
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () -> sampler.select(huge, 0, huge.length, DecodeParams.DEFAULT, new FixedCode(1)));
    assertTrue(e.getMessage().contains(String.valueOf(huge.length)), e.getMessage());
  }
}
