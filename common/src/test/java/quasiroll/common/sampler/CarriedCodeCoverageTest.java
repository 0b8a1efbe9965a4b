package quasiroll.common.sampler;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import quasiroll.common.coupling.CouplingNoiseFactory;

/**
 * The coverage property that makes carried codes worth having, tested exactly: with k lattice codes
 * on one step, token j is drawn floor(k q'_j) or ceil(k q'_j) times (q'_j = f_j / 2^32), for every
 * shift, vocabulary order and k; stratified codes are within 2 of k q'_j.
 */
class CarriedCodeCoverageTest {
  private final CoupledTokenSampler sampler = new CoupledTokenSampler();

  @Test
  void latticeCountsAreFloorOrCeilOfKp() {
    SplittableRandom rnd = new SplittableRandom(8);
    for (VocabOrder order : VocabOrder.values()) {
      DecodeParams params = new DecodeParams(1.0, 0, 1.0, 0.0, order, 1, List.of(), List.of());
      for (int k : new int[] {1, 7, 64, 1000}) {
        for (int trial = 0; trial < 5; trial++) {
          int n = 50;
          float[] x = new float[n];
          for (int j = 0; j < n; j++) {
            x[j] = (float) (rnd.nextGaussian() * 2);
          }
          long seed = rnd.nextLong();
          long[] f = sampler.quantisedWeights(x, 0, n, params);
          long[] lattice = counts(x, params, "lattice", seed, k);
          long[] strata = counts(x, params, "stratified", seed, k);
          for (int j = 0; j < n; j++) {
            long floor = (k * f[j]) >>> 32; // k <= 1000 and f <= 2^32: no overflow
            boolean exact = (k * f[j]) % (1L << 32) == 0;
            long ceil = exact ? floor : floor + 1;
            assertTrue(
                lattice[j] == floor || lattice[j] == ceil,
                order
                    + " k="
                    + k
                    + " token "
                    + j
                    + ": "
                    + lattice[j]
                    + " not in {"
                    + floor
                    + ", "
                    + ceil
                    + "}");
            assertTrue(
                Math.abs(strata[j] - k * (double) f[j] / (1L << 32)) < 2, "stratified token " + j);
          }
        }
      }
    }
  }

  private long[] counts(float[] x, DecodeParams params, String coupling, long seed, int k) {
    long[] c = new long[x.length];
    long total = 0;
    for (int i = 0; i < k; i++) {
      SampleNoise noise = CouplingNoiseFactory.INSTANCE.open(SamplerSpec.of(coupling), seed, i, k);
      c[sampler.select(x, 0, x.length, params, noise).token()]++;
      total++;
    }
    assertEquals(k, total);
    return c;
  }

  @Test
  void couplingOptionsAreValidated() {
    var e =
        org.junit.jupiter.api.Assertions.assertThrows(
            quasiroll.common.error.BadInputException.class,
            () ->
                CouplingNoiseFactory.INSTANCE.open(
                    new SamplerSpec(CouplingKind.LATTICE, Map.of("scramble", "owen")), 1, 0, 4));
    assertTrue(
        e.getMessage().contains("scramble") && e.getMessage().contains("vocab_order"),
        e.getMessage());
    var bad =
        org.junit.jupiter.api.Assertions.assertThrows(
            quasiroll.common.error.BadInputException.class,
            () -> CouplingNoiseFactory.INSTANCE.open(SamplerSpec.of("iid"), 1, 4, 4));
    assertTrue(bad.getMessage().contains("index 4"), bad.getMessage());
    assertTrue(
        org.junit.jupiter.api.Assertions.assertThrows(
                quasiroll.common.error.BadInputException.class, () -> SamplerSpec.of("sobel"))
            .getMessage()
            .contains("sobel"));
  }
}
