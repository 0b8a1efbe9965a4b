package quasiroll.common.sampler;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import quasiroll.common.error.BadInputException;

/** Exact properties of the quantised CDF and the selection rule (no statistics here). */
class CoupledTokenSamplerTest {
  private static final long TWO_32 = 1L << 32;
  private final CoupledTokenSampler sampler = new CoupledTokenSampler();

  private static float[] randomLogits(int n, long seed, double scale) {
    SplittableRandom r = new SplittableRandom(seed);
    float[] x = new float[n];
    for (int i = 0; i < n; i++) {
      x[i] = (float) (r.nextGaussian() * scale);
    }
    return x;
  }

  private static DecodeParams params(
      double t, int topK, double topP, double minP, VocabOrder order) {
    return new DecodeParams(t, topK, topP, minP, order, 16, List.of(), List.of());
  }

  @Test
  void quantisedWeightsSumToTwoTo32AndTrackTheSoftmax() {
    for (int n : new int[] {1, 2, 3, 7, 64, 1000, 32_000}) {
      float[] x = randomLogits(n, n, 3);
      long[] f = sampler.quantisedWeights(x, 0, n, DecodeParams.DEFAULT);
      long total = 0;
      double max = Double.NEGATIVE_INFINITY;
      for (float v : x) {
        max = Math.max(max, v);
      }
      double z = 0;
      for (float v : x) {
        z += StrictMath.exp(v - max);
      }
      int argmax = 0;
      for (int j = 0; j < n; j++) {
        total += f[j];
        if (x[j] > x[argmax]) {
          argmax = j;
        }
      }
      assertEquals(TWO_32, total);
      for (int j = 0; j < n; j++) {
        double q = StrictMath.exp(x[j] - max) / z;
        double err = q - f[j] / (double) TWO_32;
        // weights within 2^-22 relative (plus the float argument's rounding), quanta within one
        double bound = 0x1p-32 + 4e-6 * q + 1e-13;
        assertTrue(Math.abs(err) < bound, "token " + j + " of " + n + ": error " + err);
      }
    }
  }

  /** Every code picks the token whose bucket holds its top 32 bits, for all vocab orders. */
  @Test
  void selectionFollowsTheBucketsAndReportsTheirProbability() {
    int n = 300;
    float[] x = randomLogits(n, 9, 2);
    x[17] = x[18] = 10; // a tie for the maximum
    for (VocabOrder order : VocabOrder.values()) {
      DecodeParams p = params(0.8, 0, 1.0, 0.0, order);
      long[] f = sampler.quantisedWeights(x, 0, n, p);
      SplittableRandom r = new SplittableRandom(4);
      long[] hits = new long[n];
      for (int t = 0; t < 1500; t++) {
        FixedCode noise = new FixedCode(t < 2 ? (t == 0 ? 0 : -1) : r.nextLong());
        TokenChoice c = sampler.select(x, 0, n, p, noise);
        long u = noise.code >>> 32;
        assertEquals(f[c.token()], noise.lastWidth);
        assertTrue(noise.lastLo <= u && u < noise.lastLo + noise.lastWidth);
        assertEquals(
            (float) (StrictMath.log(f[c.token()]) - 32 * StrictMath.log(2)), c.processedLogprob());
        hits[c.token()]++;
      }
      for (int j = 0; j < n; j++) {
        if (f[j] == 0) {
          assertEquals(0, hits[j], "token with f=0 drawn");
        }
      }
    }
    long[] f = sampler.quantisedWeights(x, 0, n, params(0.8, 0, 1.0, 0.0, VocabOrder.ID));
    assertTrue(Math.abs(f[17] - f[18]) <= 1, "tied maxima get the same quantum, within one");
  }

  @Test
  void idOrderLaysBucketsByIdAndProbOrderByDescendingProbability() {
    float[] x = {0f, 2f, 1f, 2f, -1f};
    long[] f = sampler.quantisedWeights(x, 0, 5, DecodeParams.DEFAULT);
    FixedCode noise = new FixedCode(f[0] << 32); // u = f0: first code of token 1 in id order
    assertEquals(1, sampler.select(x, 0, 5, DecodeParams.DEFAULT, noise).token());
    assertEquals(f[0], noise.lastLo);
    DecodeParams prob = params(1, 0, 1, 0, VocabOrder.PROB);
    // prob order: 1, 3 (tie with 1, higher id), 2, 0, 4
    int[] expectOrder = {1, 3, 2, 0, 4};
    long lo = 0;
    for (int tok : expectOrder) {
      FixedCode at = new FixedCode(lo << 32);
      assertEquals(tok, sampler.select(x, 0, 5, prob, at).token());
      assertEquals(lo, at.lastLo);
      lo += f[tok];
    }
  }

  @Test
  void permutedOrderIsSharedAtOnePositionAndKeepsTheDistribution() {
    int n = 50;
    float[] x = randomLogits(n, 5, 1);
    DecodeParams p = params(1, 0, 1, 0, VocabOrder.PERMUTED);
    long[] f = sampler.quantisedWeights(x, 0, n, p);
    long[] hits = new long[n];
    long step = TWO_32 / 2_000;
    for (long u = 0; u < TWO_32; u += step) {
      hits[sampler.select(x, 0, n, p, new FixedCode(u << 32)).token()]++;
    }
    for (int j = 0; j < n; j++) {
      // evenly spaced codes: the count in a bucket of width f is floor or ceil of f/step
      assertTrue(Math.abs(hits[j] - f[j] / (double) step) <= 1, "token " + j);
    }
    // the layout is a function of (prompt seed, position) only: a fresh noise at the same
    // position sees the same layout, the next position a different one
    int differences = 0;
    for (long u = 0; u < TWO_32; u += step) {
      int a = sampler.select(x, 0, n, p, new FixedCode(u << 32)).token();
      assertEquals(a, sampler.select(x, 0, n, p, new FixedCode(u << 32)).token());
      FixedCode later = new FixedCode(u << 32);
      later.position = 1;
      differences += sampler.select(x, 0, n, p, later).token() != a ? 1 : 0;
    }
    assertTrue(differences > 1000, "position 1 reuses position 0's layout");
  }

  @Test
  void greedyTakesTheLowestIdMaximumAndKeepsPositionsAligned() {
    float[] x = {1f, 5f, 3f, 5f};
    FixedCode noise = new FixedCode(0x1234_5678_9abc_def0L);
    TokenChoice c = sampler.select(x, 0, 4, DecodeParams.DEFAULT.withTemperature(0), noise);
    assertEquals(1, c.token());
    assertEquals(0f, c.processedLogprob());
    assertEquals(0, noise.lastLo);
    assertEquals(TWO_32, noise.lastWidth);
    double z = Math.exp(1 - 5) + 1 + Math.exp(3 - 5) + 1;
    assertEquals(-Math.log(z), c.rawLogprob(), 1e-6);
  }

  @Test
  void topKKeepsTheKLargestWithLowestIdOnTies() {
    float[] x = {3f, 1f, 3f, 2f, 3f};
    long[] f = sampler.quantisedWeights(x, 0, 5, params(1, 2, 1, 0, VocabOrder.ID));
    assertArrayEquals(new long[] {TWO_32 / 2, 0, TWO_32 / 2, 0, 0}, f);
    long[] one = sampler.quantisedWeights(x, 0, 5, params(1, 1, 1, 0, VocabOrder.ID));
    assertArrayEquals(new long[] {TWO_32, 0, 0, 0, 0}, one);
    // top-k >= vocab is off
    assertArrayEquals(
        sampler.quantisedWeights(x, 0, 5, DecodeParams.DEFAULT),
        sampler.quantisedWeights(x, 0, 5, params(1, 5, 1, 0, VocabOrder.ID)));
  }

  @Test
  void topPKeepsTheShortestPrefixReachingP() {
    // probabilities proportional to 4, 2, 1, 1 (/8) in ids 2, 0, 1, 3
    float[] x = {(float) Math.log(2), 0f, (float) Math.log(4), 0f};
    long[] half = sampler.quantisedWeights(x, 0, 4, params(1, 0, 0.5, 0, VocabOrder.ID));
    assertArrayEquals(new long[] {0, 0, TWO_32, 0}, half);
    long[] p75 = sampler.quantisedWeights(x, 0, 4, params(1, 0, 0.75, 0, VocabOrder.ID));
    assertEquals(0, p75[1] + p75[3]);
    assertEquals(2.0, p75[2] / (double) p75[0], 1e-5); // float logits: ratio 2 to ~1e-7
    // 0.8 needs a third token; of the tied ids 1 and 3 the lower id comes first
    long[] p80 = sampler.quantisedWeights(x, 0, 4, params(1, 0, 0.8, 0, VocabOrder.ID));
    assertTrue(p80[1] > 0 && p80[3] == 0);
    // tiny p keeps only the argmax
    long[] tiny = sampler.quantisedWeights(x, 0, 4, params(1, 0, 1e-9, 0, VocabOrder.ID));
    assertEquals(TWO_32, tiny[2]);
  }

  @Test
  void minPDropsTokensBelowAFractionOfTheMax() {
    float[] x = {(float) Math.log(2), 0f, (float) Math.log(4), 0f};
    long[] f = sampler.quantisedWeights(x, 0, 4, params(1, 0, 1, 0.3, VocabOrder.ID));
    assertEquals(0, f[1] + f[3]); // 1/4 of the max < 0.3
    assertTrue(f[0] > 0);
    long[] g = sampler.quantisedWeights(x, 0, 4, params(1, 0, 1, 0.6, VocabOrder.ID));
    assertEquals(TWO_32, g[2]);
    // all three truncations together: top-k 3 drops id 3, top-p 0.9 keeps 2,0,1, min-p keeps them
    long[] all = sampler.quantisedWeights(x, 0, 4, params(1, 3, 0.9, 0.2, VocabOrder.ID));
    assertTrue(all[1] > 0 && all[3] == 0);
  }

  @Test
  void temperatureSharpensAndRawLogprobIgnoresIt() {
    float[] x = {0f, 1f};
    long[] cold = sampler.quantisedWeights(x, 0, 2, params(0.5, 0, 1, 0, VocabOrder.ID));
    double p1 = 1 / (1 + Math.exp(-2));
    // the float exp is within 2^-23 relative, so the probability within ~2.4e-7
    assertEquals(p1, cold[1] / (double) TWO_32, 3e-7);
    TokenChoice c =
        sampler.select(x, 0, 2, params(0.5, 0, 1, 0, VocabOrder.ID), new FixedCode(-1L));
    assertEquals(1, c.token());
    assertEquals(-Math.log1p(Math.exp(-1)), c.rawLogprob(), 1e-6);
    assertEquals(Math.log(p1), c.processedLogprob(), 1e-6);
  }

  @Test
  void batchEqualsRowByRowAndRefusesBadRows() {
    int n = 1000;
    int rows = 5;
    float[] x = randomLogits(n * rows, 12, 2);
    SampleNoise[] noises = new SampleNoise[rows];
    TokenChoice[] out = new TokenChoice[rows];
    for (int r = 0; r < rows; r++) {
      noises[r] = new FixedCode(r * 0x3333_3333_3333_3333L);
    }
    sampler.selectBatch(x, rows, n, DecodeParams.DEFAULT, noises, out);
    for (int r = 0; r < rows; r++) {
      float[] row = java.util.Arrays.copyOfRange(x, r * n, (r + 1) * n);
      assertEquals(
          out[r],
          new CoupledTokenSampler()
              .select(row, 0, n, DecodeParams.DEFAULT, new FixedCode(r * 0x3333_3333_3333_3333L)));
    }
    float[] nan = {1f, Float.NaN};
    assertThrows(
        IllegalStateException.class,
        () -> sampler.select(nan, 0, 2, DecodeParams.DEFAULT, new FixedCode(0)));
    float[] inf = {Float.NEGATIVE_INFINITY, Float.NEGATIVE_INFINITY};
    assertThrows(
        IllegalStateException.class,
        () -> sampler.select(inf, 0, 2, DecodeParams.DEFAULT, new FixedCode(0)));
    // -infinity logits are allowed when some token is finite; they are never drawn
    float[] masked = {Float.NEGATIVE_INFINITY, 0f};
    assertArrayEquals(
        new long[] {0, TWO_32}, sampler.quantisedWeights(masked, 0, 2, DecodeParams.DEFAULT));
  }

  @Test
  void badDecodeParamsNameTheValue() {
    BadInputException e =
        assertThrows(BadInputException.class, () -> params(-1, 0, 1, 0, VocabOrder.ID));
    assertTrue(e.getMessage().contains("temperature -1"));
    assertTrue(
        assertThrows(BadInputException.class, () -> params(1, -2, 1, 0, VocabOrder.ID))
            .getMessage()
            .contains("top-k -2"));
    assertTrue(
        assertThrows(BadInputException.class, () -> params(1, 0, 0, 0, VocabOrder.ID))
            .getMessage()
            .contains("top-p 0"));
    assertTrue(
        assertThrows(BadInputException.class, () -> params(1, 0, 1, 1, VocabOrder.ID))
            .getMessage()
            .contains("min-p 1"));
    assertTrue(
        assertThrows(BadInputException.class, () -> VocabOrder.parse("random"))
            .getMessage()
            .contains("random"));
  }

  @Test
  void topTokensAreTheLargestQuantisedWeightsInOrder() {
    java.util.Random rnd = new java.util.Random(11);
    CoupledTokenSampler s = new CoupledTokenSampler();
    for (int trial = 0; trial < 50; trial++) {
      int vocab = 5 + rnd.nextInt(300);
      float[] logits = new float[vocab];
      for (int j = 0; j < vocab; j++) {
        // Repeated values on purpose: ties must go to the lower id.
        logits[j] = rnd.nextInt(4) == 0 ? 1.5f : (float) rnd.nextGaussian() * 3;
      }
      DecodeParams p =
          new DecodeParams(
              0.5 + rnd.nextDouble(),
              rnd.nextInt(3) == 0 ? 7 : 0,
              rnd.nextBoolean() ? 0.9 : 1.0,
              rnd.nextInt(3) == 0 ? 0.05 : 0.0,
              VocabOrder.ID,
              10,
              java.util.List.of(),
              java.util.List.of());
      long[] f = s.quantisedWeights(logits, 0, vocab, p);
      Integer[] order = new Integer[vocab];
      for (int j = 0; j < vocab; j++) {
        order[j] = j;
      }
      java.util.Arrays.sort(
          order, (a, b) -> f[a] != f[b] ? Long.compare(f[b], f[a]) : Integer.compare(a, b));
      int n = 1 + rnd.nextInt(20);
      TopTokens top = s.topTokens(logits, 0, vocab, p, n);
      int expected = 0;
      for (int j = 0; j < Math.min(n, vocab); j++) {
        if (f[order[j]] > 0) {
          assertEquals((int) order[j], top.ids()[j], "rank " + j + " of trial " + trial);
          assertEquals(
              (float) (StrictMath.log((double) f[order[j]]) - 32 * StrictMath.log(2)),
              top.logprobs()[j],
              0f);
          expected++;
        }
      }
      assertEquals(expected, top.ids().length);
    }
  }
}
