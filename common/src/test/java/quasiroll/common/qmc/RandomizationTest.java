package quasiroll.common.qmc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class RandomizationTest {
  private static final List<Randomization> DIGITAL =
      List.of(DigitalShift.INSTANCE, LeftMatrixScramble.INSTANCE, NestedUniformScramble.INSTANCE);

  /**
   * Every coordinate is U[0,1) across randomizations: 4 randomizations x 3 points x 2 dims, each
   * two KS tests at 1e-4, so a correct implementation fails with probability <= 0.5% over the
   * choice of seeds (and, the seeds being fixed, deterministically never).
   */
  @Test
  void everyCoordinateIsUniformAcrossRandomizations() {
    SobolSequence sobol = new SobolSequence(256, 8);
    for (Randomization r :
        List.of(
            RandomShift.INSTANCE,
            DigitalShift.INSTANCE,
            LeftMatrixScramble.INSTANCE,
            NestedUniformScramble.INSTANCE)) {
      for (int i : new int[] {0, 1, 255}) {
        for (int j : new int[] {0, 7}) {
          long x = sobol.coordinate(i, j);
          UniformityCheck.assertUniform(
              r.name() + " point " + i + " dim " + j, 2000, seed -> r.apply(seed, j, x));
        }
      }
    }
  }

  @Test
  void digitalRandomizationsKeepTheSobolNet() {
    SobolSequence sobol = new SobolSequence(256, 2);
    NetProperty.assertZeroMTwoNet(sobol, 8, 0, 1);
    for (Randomization r : DIGITAL) {
      for (long seed = 1; seed <= 5; seed++) {
        NetProperty.assertZeroMTwoNet(new RandomizedPointSet(sobol, r, seed), 8, 0, 1);
      }
    }
  }

  @Test
  void shiftedLatticeDifferencesAreLatticeVectors() {
    Rank1Lattice lattice = new Rank1Lattice(101, new int[] {1, 27, 41});
    RandomizedPointSet shifted = new RandomizedPointSet(lattice, RandomShift.INSTANCE, 99);
    for (int i = 0; i < 101; i++) {
      for (int j = 0; j < 3; j++) {
        assertEquals(lattice.coordinate(i, j), shifted.coordinate(i, j) - shifted.coordinate(0, j));
      }
    }
  }

  @Test
  void lmsIsAffineAndLowerTriangular() {
    SplittableRandom rng = new SplittableRandom(3);
    Randomization lms = LeftMatrixScramble.INSTANCE;
    for (int trial = 0; trial < 500; trial++) {
      long seed = rng.nextLong();
      int dim = rng.nextInt(1000);
      long a = rng.nextLong();
      long b = rng.nextLong();
      long zero = lms.apply(seed, dim, 0);
      assertEquals(
          lms.apply(seed, dim, a) ^ lms.apply(seed, dim, b), lms.apply(seed, dim, a ^ b) ^ zero);
      int q = rng.nextInt(64);
      long flipped = a ^ (1L << (63 - q)); // differs from a first at digit q
      long ya = lms.apply(seed, dim, a);
      long yf = lms.apply(seed, dim, flipped);
      assertEquals(q, Long.numberOfLeadingZeros(ya ^ yf), "unit diagonal and nothing above it");
    }
  }

  @Test
  void owenScramblingIsANestedPermutation() {
    SplittableRandom rng = new SplittableRandom(4);
    Randomization owen = NestedUniformScramble.INSTANCE;
    for (int trial = 0; trial < 500; trial++) {
      long seed = rng.nextLong();
      int dim = rng.nextInt(1000);
      long a = rng.nextLong();
      int q = rng.nextInt(64);
      long b = a ^ (1L << (63 - q)) ^ (rng.nextLong() & ((1L << (63 - q)) - 1));
      // Same first q digits in, same first q digits out; digit q differs in, differs out.
      assertEquals(
          q, Long.numberOfLeadingZeros(owen.apply(seed, dim, a) ^ owen.apply(seed, dim, b)));
    }
  }

  @Test
  void deterministicPerSeedAndDifferentAcrossSeeds() {
    SobolSequence sobol = new SobolSequence(16, 4);
    for (Randomization r :
        List.of(
            RandomShift.INSTANCE,
            DigitalShift.INSTANCE,
            LeftMatrixScramble.INSTANCE,
            NestedUniformScramble.INSTANCE)) {
      RandomizedPointSet a = new RandomizedPointSet(sobol, r, 42);
      RandomizedPointSet b = new RandomizedPointSet(sobol, r, 42);
      RandomizedPointSet c = new RandomizedPointSet(sobol, r, 43);
      boolean anyDiff = false;
      for (int i = 0; i < 16; i++) {
        for (int j = 0; j < 4; j++) {
          assertEquals(a.coordinate(i, j), b.coordinate(i, j));
          anyDiff |= a.coordinate(i, j) != c.coordinate(i, j);
        }
      }
      assertTrue(anyDiff, r.name() + " ignores its seed");
    }
  }

  @Test
  void digitalRandomizationsRefuseNonDigitalPointSets() {
    Rank1Lattice lattice = new Rank1Lattice(8, new int[] {1, 3});
    for (Randomization r : DIGITAL) {
      assertFalse(r.fits(lattice));
      assertThrows(IllegalArgumentException.class, () -> new RandomizedPointSet(lattice, r, 1));
    }
    assertTrue(RandomShift.INSTANCE.fits(lattice));
    assertNotEquals(null, Randomization.byName("owen"));
    assertEquals(null, Randomization.byName("bogus"));
  }
}
