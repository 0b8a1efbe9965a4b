package quasiroll.common.sampler;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.Map;
import org.apache.commons.math3.stat.inference.ChiSquareTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import quasiroll.common.coupling.CouplingNoiseFactory;
import quasiroll.common.error.BadInputException;
import quasiroll.common.noise.ExtensibleOrder;
import quasiroll.common.noise.KeyedHash;
import quasiroll.common.noise.LatticeCodes;
import quasiroll.common.qmc.CbcConstruction;
import quasiroll.common.qmc.Rank1Lattice;

/**
 * Grown groups (zero_variance GROW): the first k samples are exactly the ones already drawn, the
 * grown group of 2k (4k) is exactly the coupled group of that size (as a set of codes, tested
 * exactly), and every grown sample is still exactly uniform (chi-square over prompt seeds, alpha
 * 1e-4 per test: with 3 such tests the family-wise false-alarm rate is < 3e-4; seeds are fixed, so
 * every run is identical).
 */
class GrowExactnessTest {
  private static final double ALPHA = 1e-4;

  private static SampleNoise open(String kind, long seed, int index, int k, int extent) {
    Map<String, String> options =
        extent == k ? Map.of() : Map.of(ExtensibleOrder.OPTION, Integer.toString(extent));
    return CouplingNoiseFactory.INSTANCE.open(
        new SamplerSpec(CouplingKind.parse(kind), options), seed, index, k);
  }

  /** Codes at positions 0..n-1 (token-level couplings move on whatever the choice was). */
  private static long[] codes(SampleNoise noise, int n) {
    long[] out = new long[n];
    for (int t = 0; t < n; t++) {
      out[t] = noise.code();
      noise.advance(0, 1L << 32);
    }
    return out;
  }

  private static long seed(int trial) {
    return KeyedHash.promptSeed(424242L, "grow-" + trial);
  }

  @Test
  void extensibleOrderVisitsEachLevelExactly() {
    int k = 3;
    for (int level = 0; level <= 4; level++) {
      int size = k << level;
      long[] numerators = new long[size];
      for (int j = 0; j < size; j++) {
        long[] f = ExtensibleOrder.fraction(j, k);
        assertEquals(0, size % f[1], "den divides the level size");
        numerators[j] = f[0] * (size / f[1]);
      }
      Arrays.sort(numerators);
      for (int i = 0; i < size; i++) {
        assertEquals(i, numerators[i], "level " + level + " is {i / " + size + "}");
      }
    }
  }

  @ParameterizedTest
  @ValueSource(ints = {1, 3, 8, 12})
  void grownLatticeIsExactlyTheFreshLatticeOfTheGrownSize(int k) {
    for (int trial = 0; trial < 20; trial++) {
      long s = seed(trial);
      for (int j = 0; j < k; j++) {
        assertEquals(
            LatticeCodes.initialCode(s, j, k),
            open("lattice", s, j, k, 4 * k).code(),
            "prefix kept");
      }
      for (int size : new int[] {2 * k, 4 * k}) {
        long[] grown = new long[size];
        long[] fresh = new long[size];
        for (int j = 0; j < size; j++) {
          grown[j] = open("lattice", s, j, k, 4 * k).code();
          fresh[j] = open("lattice", s, j, size, size).code();
        }
        Arrays.sort(grown);
        Arrays.sort(fresh);
        assertArrayEquals(fresh, grown, "k=" + k + " grown to " + size);
      }
    }
  }

  @Test
  void grownSobolIsIndexForIndexTheFreshSobolGroup() {
    for (String scramble : new String[] {"lms", "owen", "xor"}) {
      long s = seed(7);
      int k = 8;
      for (int j = 0; j < 4 * k; j++) {
        SampleNoise grown =
            CouplingNoiseFactory.INSTANCE.open(
                new SamplerSpec(
                    CouplingKind.SOBOL, Map.of(ExtensibleOrder.OPTION, "32", "scramble", scramble)),
                s,
                j,
                k);
        SampleNoise fresh =
            CouplingNoiseFactory.INSTANCE.open(
                new SamplerSpec(CouplingKind.SOBOL, Map.of("scramble", scramble)), s, j, 4 * k);
        assertArrayEquals(codes(fresh, 12), codes(grown, 12), scramble + " sample " + j);
        if (j < k) {
          SampleNoise first =
              CouplingNoiseFactory.INSTANCE.open(
                  new SamplerSpec(CouplingKind.SOBOL, Map.of("scramble", scramble)), s, j, k);
          assertArrayEquals(
              codes(first, 12),
              codes(
                  CouplingNoiseFactory.INSTANCE.open(
                      new SamplerSpec(
                          CouplingKind.SOBOL,
                          Map.of(ExtensibleOrder.OPTION, "32", "scramble", scramble)),
                      s,
                      j,
                      k),
                  12),
              "prefix kept");
        }
      }
    }
  }

  @Test
  void grownRank1IsTheEmbeddedSubLatticeAtEveryLevel() {
    int k = 6;
    int extent = 4 * k;
    Rank1Lattice big = Rank1Lattice.cbc(extent, CbcConstruction.defaultDimension(extent));
    int[] z = big.generatingVector();
    long s = seed(3);
    // The shift is the same for every sample: recover it from sample 0 (the lattice origin).
    long[] shift = codes(open("rank1", s, 0, k, extent), 6);
    for (int size : new int[] {k, 2 * k, 4 * k}) {
      long[][] grown = new long[size][];
      long[][] lattice = new long[size][];
      for (int j = 0; j < size; j++) {
        long[] c = codes(open("rank1", s, j, k, extent), 6);
        for (int d = 0; d < 6; d++) {
          c[d] -= shift[d];
        }
        grown[j] = c;
        // the size-point rank-1 lattice with generating vector z mod size, unshifted
        Rank1Lattice small = new Rank1Lattice(size, Arrays.stream(z).map(v -> v % size).toArray());
        lattice[j] = new long[6];
        for (int d = 0; d < 6; d++) {
          lattice[j][d] = small.coordinate(j, d);
        }
      }
      Arrays.sort(grown, Arrays::compare);
      Arrays.sort(lattice, Arrays::compare);
      for (int j = 0; j < size; j++) {
        for (int d = 0; d < 6; d++) {
          // (i'·z mod extent)/extent with i' = i·extent/size is exactly (i·z mod size)/size
          assertEquals(lattice[j][d], grown[j][d], "size " + size + " point " + j + " dim " + d);
        }
      }
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"lattice", "sobol", "rank1"})
  void grownSamplesAreExactlyUniform(String kind) {
    int k = 4;
    int trials = 16000;
    int bins = 16;
    // sample 5 (level 1) and sample 13 (level 2) of a group of 4 grown to 16
    for (int j : new int[] {5, 13}) {
      long[] counts = new long[bins];
      for (int trial = 0; trial < trials; trial++) {
        long c = open(kind, seed(trial), j, k, 16).code();
        counts[(int) (Long.divideUnsigned(c, Long.divideUnsigned(-1L, bins) + 1))]++;
      }
      double[] expected = new double[bins];
      Arrays.fill(expected, (double) trials / bins);
      double p = new ChiSquareTest().chiSquareTest(expected, counts);
      assertTrue(
          p > ALPHA,
          kind + " sample " + j + " not uniform: p=" + p + " " + Arrays.toString(counts));
    }
  }

  @Test
  void samplersThatCannotGrowAreRefusedNamingWhy() {
    for (String kind : new String[] {"stratified", "lhs"}) {
      var e = assertThrows(BadInputException.class, () -> open(kind, 1, 0, 4, 8));
      assertTrue(e.getMessage().contains("'" + kind + "' cannot grow"), e.getMessage());
    }
    var e = assertThrows(BadInputException.class, () -> open("lattice", 1, 0, 4, 12));
    assertTrue(e.getMessage().contains("extensible_to=12 is not k·2^g for k=4"), e.getMessage());
    var odd = assertThrows(BadInputException.class, () -> open("antithetic", 1, 0, 3, 6));
    assertTrue(odd.getMessage().contains("even k"), odd.getMessage());
    var past = assertThrows(BadInputException.class, () -> open("lattice", 1, 8, 4, 8));
    assertTrue(past.getMessage().contains("outside [0, 8)"), past.getMessage());
    // iid grows trivially: extra indices are fresh independent draws, the first k unchanged
    assertArrayEquals(codes(open("iid", 5, 2, 4, 4), 5), codes(open("iid", 5, 2, 4, 16), 5));
  }
}
