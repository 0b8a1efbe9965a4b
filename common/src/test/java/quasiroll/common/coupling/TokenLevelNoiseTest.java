package quasiroll.common.coupling;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import org.junit.jupiter.api.Test;
import quasiroll.common.error.BadInputException;
import quasiroll.common.qmc.LatinHypercube;
import quasiroll.common.qmc.NetProperty;
import quasiroll.common.qmc.PointSet;
import quasiroll.common.qmc.RandomShift;
import quasiroll.common.qmc.Randomization;
import quasiroll.common.qmc.Rank1Lattice;
import quasiroll.common.qmc.SobolSequence;
import quasiroll.common.qmc.UniformityCheck;
import quasiroll.common.sampler.CouplingKind;
import quasiroll.common.sampler.SampleNoise;
import quasiroll.common.sampler.SamplerSpec;

class TokenLevelNoiseTest {
  private static final long PROMPT = 0x1234_5678_9ABCL;

  private static SamplerSpec spec(CouplingKind c, Map<String, String> options) {
    return new SamplerSpec(c, options);
  }

  private static void skipTo(SampleNoise noise, int position) {
    while (noise.position() < position) {
      noise.advance(0, 1L << 32);
    }
  }

  @Test
  void sobolPositionsAreScrambledCoordinatesThenPaddedBlocks() {
    int k = 32;
    int index = 21;
    SobolSequence sobol = new SobolSequence(k, 1000);
    for (String scramble : new String[] {"lms", "owen", "xor"}) {
      Randomization r = Randomization.byName(scramble);
      SampleNoise noise =
          TokenLevelNoise.open(
              spec(CouplingKind.SOBOL, Map.of("scramble", scramble)), PROMPT, index, k);
      for (int t = 0; t < 2003; t++) {
        int block = t / 1000;
        long expected =
            r.apply(
                TokenLevelNoise.blockSeed(PROMPT, block),
                t % 1000,
                sobol.coordinate(index, t % 1000));
        assertEquals(expected, noise.code(), scramble + " position " + t);
        assertEquals(expected, noise.code(), "code() is stable within a position");
        if (t == 999) {
          assertEquals("", noise.note());
        }
        noise.advance(0, 1L << 32);
      }
      assertEquals(
          "sobol ("
              + scramble
              + ") dims 0..999, positions >= 1000 padded with independently randomized copies",
          noise.note());
    }
  }

  @Test
  void paddedBlocksAreIndependentRandomizations() {
    SampleNoise noise = TokenLevelNoise.open(SamplerSpec.of("sobol"), PROMPT, 3, 8);
    long first = noise.code();
    skipTo(noise, 1000);
    assertNotEquals(first, noise.code());
    assertNotEquals(TokenLevelNoise.blockSeed(PROMPT, 1), TokenLevelNoise.blockSeed(PROMPT, 2));
    assertEquals(PROMPT, TokenLevelNoise.blockSeed(PROMPT, 0));
  }

  @Test
  void sobolGroupAtOnePositionIsTheScrambledNet() {
    // The k = 64 codes at a position are a scrambled Sobol' net: in dims (0, 1) a (0,6,2)-net.
    int k = 64;
    long[][] codes = new long[k][2];
    for (int i = 0; i < k; i++) {
      SampleNoise noise = TokenLevelNoise.open(SamplerSpec.of("sobol"), PROMPT, i, k);
      codes[i][0] = noise.code();
      noise.advance(0, 1L << 32);
      codes[i][1] = noise.code();
    }
    PointSet asPoints =
        new PointSet() {
          public int numPoints() {
            return k;
          }

          public int dimension() {
            return 2;
          }

          public long coordinate(int i, int j) {
            return codes[i][j];
          }

          public String describe() {
            return "token codes";
          }
        };
    NetProperty.assertZeroMTwoNet(asPoints, 6, 0, 1);
  }

  @Test
  void rank1UsesTheShiftedCbcLatticeAndPadsPast256() {
    int k = 50;
    Rank1Lattice lattice = Rank1Lattice.cbc(k, 256);
    SampleNoise noise = TokenLevelNoise.open(SamplerSpec.of("rank1"), PROMPT, 7, k);
    for (int t = 0; t < 300; t++) {
      long seed = TokenLevelNoise.blockSeed(PROMPT, t / 256);
      assertEquals(
          lattice.coordinate(7, t % 256) + RandomShift.shift(seed, t % 256),
          noise.code(),
          "position " + t);
      noise.advance(0, 1);
    }
    assertTrue(
        noise.note().startsWith("rank1 (shift) dims 0..255, positions >= 256 padded"),
        noise.note());
  }

  @Test
  void lhsHasNoDimensionLimit() {
    LatinHypercube lhs = new LatinHypercube(10, Integer.MAX_VALUE, PROMPT);
    SampleNoise noise = TokenLevelNoise.open(SamplerSpec.of("lhs"), PROMPT, 4, 10);
    skipTo(noise, 5000);
    assertEquals(lhs.coordinate(4, 5000), noise.code());
    assertEquals("", noise.note());
    assertEquals(PROMPT, noise.promptSeed());
  }

  /**
   * The code of a fixed sample at a fixed position is uniform over prompt seeds: 5 samplers, each
   * two KS tests at 1e-4, family-wise false-alarm rate <= 0.1%.
   */
  @Test
  void codesAreUniformOverPromptSeeds() {
    String[][] cases = {
      {"sobol", "lms"}, {"sobol", "owen"}, {"sobol", "xor"}, {"rank1", null}, {"lhs", null}
    };
    for (String[] c : cases) {
      SamplerSpec s =
          spec(CouplingKind.parse(c[0]), c[1] == null ? Map.of() : Map.of("scramble", c[1]));
      UniformityCheck.assertUniform(
          c[0] + "/" + c[1],
          2000,
          seed -> {
            SampleNoise noise = TokenLevelNoise.open(s, seed, 5, 16);
            noise.advance(0, 1);
            return noise.code();
          });
    }
  }

  @Test
  void sameArgumentsGiveBitIdenticalStreams() {
    for (String name : new String[] {"sobol", "rank1", "lhs"}) {
      SampleNoise a = TokenLevelNoise.open(SamplerSpec.of(name), PROMPT, 2, 12);
      SampleNoise b = TokenLevelNoise.open(SamplerSpec.of(name), PROMPT, 2, 12);
      for (int t = 0; t < 50; t++) {
        assertEquals(a.code(), b.code());
        a.advance(0, 1);
        b.advance(0, 1);
      }
    }
  }

  @Test
  void refusesBadOptionsAndOtherCouplings() {
    BadInputException none =
        assertThrows(
            BadInputException.class,
            () ->
                TokenLevelNoise.open(
                    spec(CouplingKind.SOBOL, Map.of("scramble", "none")), PROMPT, 0, 4));
    assertTrue(
        none.getMessage().contains("scramble=none") && none.getMessage().contains("lms"),
        none.getMessage());
    BadInputException bogus =
        assertThrows(
            BadInputException.class,
            () ->
                TokenLevelNoise.open(
                    spec(CouplingKind.SOBOL, Map.of("scramble", "bogus")), PROMPT, 0, 4));
    assertTrue(
        bogus.getMessage().contains("bogus") && bogus.getMessage().contains("owen"),
        bogus.getMessage());
    BadInputException key =
        assertThrows(
            BadInputException.class,
            () ->
                TokenLevelNoise.open(
                    spec(CouplingKind.RANK1, Map.of("scramble", "lms")), PROMPT, 0, 4));
    assertTrue(key.getMessage().contains("'scramble'"), key.getMessage());
    assertThrows(
        IllegalArgumentException.class,
        () -> TokenLevelNoise.open(SamplerSpec.of("lattice"), PROMPT, 0, 4));
    assertThrows(
        IllegalArgumentException.class,
        () -> TokenLevelNoise.open(SamplerSpec.of("sobol"), PROMPT, 4, 4));
  }
}
