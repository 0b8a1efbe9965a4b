package quasiroll.common.sampler;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * The optimised {@link CoupledTokenSampler} against {@link ReferenceTokenSampler} (the
 * straightforward implementation, frozen): bit-identical token, bucket (lo, width), raw and
 * processed logprob, and quantised weights, on thousands of random rows (fixed seed) over several
 * vocabularies, temperatures, top-k / top-p / min-p and every vocab order, including adversarial
 * rows. Exact claim, tested exactly: any difference fails.
 */
class OptimisedSamplerEquivalenceTest {
  private static final int[] VOCABS = {1, 2, 5, 64, 257, 1000, 4099, 32_000};
  private static final double[] TEMPS = {0.0, 0.05, 0.7, 1.0, 1.5, 4.0};
  private static final int[] TOP_K = {0, 1, 3, 40, 1000};
  private static final double[] TOP_P = {1.0, 0.999, 0.95, 0.9, 0.5, 1e-9};
  private static final double[] MIN_P = {0.0, 1e-6, 0.05, 0.5};

  @Test
  void sameChoicesAndLogprobsAsTheReferenceOnManyRows() {
    SplittableRandom rnd = new SplittableRandom(0x13_0005L);
    CoupledTokenSampler fast = new CoupledTokenSampler();
    ReferenceTokenSampler ref = new ReferenceTokenSampler();
    int rows = 0;
    for (int vocab : VOCABS) {
      int trials = vocab >= 32_000 ? 60 : vocab >= 4000 ? 250 : 500;
      for (int t = 0; t < trials; t++) {
        float[] row = row(rnd, vocab, t);
        DecodeParams p = params(rnd);
        long code = rnd.nextLong();
        FixedCode a = new FixedCode(code);
        FixedCode b = new FixedCode(code);
        String what = "vocab " + vocab + " trial " + t + " " + p;
        TokenChoice got = fast.select(row, 0, vocab, p, a);
        TokenChoice want = ref.select(row, 0, vocab, p, b);
        assertEquals(want.token(), got.token(), what);
        assertEquals(
            Float.floatToRawIntBits(want.rawLogprob()),
            Float.floatToRawIntBits(got.rawLogprob()),
            what);
        assertEquals(
            Float.floatToRawIntBits(want.processedLogprob()),
            Float.floatToRawIntBits(got.processedLogprob()),
            what);
        assertEquals(b.lastLo, a.lastLo, what);
        assertEquals(b.lastWidth, a.lastWidth, what);
        if (t % 5 == 0) {
          assertArrayEquals(
              ref.quantisedWeights(row, 0, vocab, p),
              fast.quantisedWeights(row, 0, vocab, p),
              what);
        }
        rows++;
      }
    }
    assertEquals(true, rows > 3000);
  }

  @Test
  void vectorWeightsAreBitIdenticalToTheScalarFormAtEveryWidth() {
    SplittableRandom r = new SplittableRandom(0x13_0006L);
    for (var species :
        List.of(
            jdk.incubator.vector.FloatVector.SPECIES_128,
            jdk.incubator.vector.FloatVector.SPECIES_256,
            jdk.incubator.vector.FloatVector.SPECIES_512)) {
      int lanes = species.length();
      float[] a = new float[lanes];
      for (int t = 0; t < 20_000; t++) {
        for (int l = 0; l < lanes; l++) {
          a[l] =
              switch (r.nextInt(5)) {
                case 0 -> (float) (-r.nextDouble() * 23);
                case 1 -> (float) (-r.nextDouble() * 800); // mostly cut
                case 2 -> (float) (-r.nextDouble() * 1e-6);
                case 3 -> -22.25f + r.nextInt(3) * Math.ulp(22.25f) - Math.ulp(22.25f);
                default -> (float) (-Math.abs(r.nextGaussian()) * 5);
              };
        }
        if (t == 0) {
          a[0] = 0f;
          a[1] = -0f;
          a[2] = Float.NEGATIVE_INFINITY;
          a[3] = Float.NaN;
        }
        jdk.incubator.vector.FloatVector v =
            WeightExp.scaled(jdk.incubator.vector.FloatVector.fromArray(species, a, 0));
        for (int l = 0; l < lanes; l++) {
          assertEquals(
              Float.floatToRawIntBits(WeightExp.scaled(a[l])),
              Float.floatToRawIntBits(v.lane(l)),
              "a=" + a[l] + " lanes " + lanes);
        }
      }
    }
  }

  @Test
  void badRowsAreRefusedAlike() {
    CoupledTokenSampler fast = new CoupledTokenSampler();
    float[] nan = {0f, Float.NaN, 1f, 2f};
    float[] inf = {0f, Float.POSITIVE_INFINITY, 1f};
    float[] allNegInf = {Float.NEGATIVE_INFINITY, Float.NEGATIVE_INFINITY};
    for (float[] bad : List.of(nan, inf, allNegInf)) {
      assertThrows(
          IllegalStateException.class,
          () -> fast.select(bad, 0, bad.length, DecodeParams.DEFAULT, new FixedCode(7)));
      assertThrows(
          IllegalStateException.class,
          () ->
              new ReferenceTokenSampler()
                  .select(bad, 0, bad.length, DecodeParams.DEFAULT, new FixedCode(7)));
    }
  }

  private static DecodeParams params(SplittableRandom r) {
    VocabOrder[] orders = VocabOrder.values();
    return new DecodeParams(
        TEMPS[r.nextInt(TEMPS.length)],
        r.nextInt(3) == 0 ? TOP_K[r.nextInt(TOP_K.length)] : 0,
        r.nextInt(2) == 0 ? TOP_P[r.nextInt(TOP_P.length)] : 1.0,
        r.nextInt(3) == 0 ? MIN_P[r.nextInt(MIN_P.length)] : 0.0,
        orders[r.nextInt(orders.length)],
        16,
        List.of(),
        List.of());
  }

  /** Ordinary and adversarial rows, chosen by trial number. */
  private static float[] row(SplittableRandom r, int n, int trial) {
    float[] x = new float[n];
    switch (trial % 8) {
      case 0 -> java.util.Arrays.fill(x, 3.25f); // all equal
      case 1 -> { // huge range
        for (int j = 0; j < n; j++) {
          x[j] = (float) ((r.nextDouble() * 2 - 1) * 1e30);
        }
      }
      case 2 -> { // -inf mixed in, and a few equal maxima
        for (int j = 0; j < n; j++) {
          x[j] = r.nextInt(4) == 0 ? Float.NEGATIVE_INFINITY : (float) r.nextGaussian() * 2;
        }
        x[r.nextInt(n)] = 9f;
        x[r.nextInt(n)] = 9f;
      }
      case 3 -> { // few distinct values: many ties
        for (int j = 0; j < n; j++) {
          x[j] = r.nextInt(5) * 0.5f;
        }
      }
      case 4 -> { // values a float ulp apart (distinct logits, equal or nearly equal weights)
        for (int j = 0; j < n; j++) {
          x[j] = Math.nextUp(100f * r.nextInt(3)) + r.nextInt(3) * Math.ulp(100f);
        }
      }
      case 5 -> { // ties exactly at the cut-off (x - m = -22.25, kept) and one float below it
        for (int j = 0; j < n; j++) {
          x[j] = r.nextBoolean() ? -13.25f : Math.nextDown(-13.25f);
        }
        x[r.nextInt(n)] = 9f;
      }
      default -> { // LLM-like: N(0, s^2) plus a few strong tokens
        double s = 0.5 + r.nextDouble() * 4;
        for (int j = 0; j < n; j++) {
          x[j] = (float) (r.nextGaussian() * s);
        }
        for (int k = 0; k < 3; k++) {
          x[r.nextInt(n)] = (float) (10 + r.nextDouble() * 10);
        }
      }
    }
    return x;
  }
}
