package quasiroll.common.coupling;

import quasiroll.common.error.BadInputException;
import quasiroll.common.noise.KeyedHash;
import quasiroll.common.qmc.CbcConstruction;
import quasiroll.common.qmc.FixedPoint;
import quasiroll.common.qmc.OneDimLattice;
import quasiroll.common.qmc.PointSet;
import quasiroll.common.qmc.Rank1Lattice;
import quasiroll.common.qmc.SobolSequence;
import quasiroll.common.sampler.CouplingKind;
import quasiroll.common.sampler.SampleNoise;
import quasiroll.common.sampler.SamplerSpec;

/**
 * The points a sampler uses, as a table (what {@code quasiroll points} prints): row i is sample i
 * of a group of n, column t its uniform at token position t.
 *
 * <p>Randomized tables are read from the very noise the token sampler consumes ({@link
 * CouplingNoiseFactory}), so they show exactly what sampling uses for a prompt whose seed is the
 * given seed. Carried-code couplings (lattice, stratified) have one code per sample (later
 * positions depend on the tokens chosen), so they have one column only. Deterministic tables (no
 * randomization) are the constructions themselves: sobol = unscrambled Sobol' from the origin (==
 * scipy.stats.qmc.Sobol(d, scramble=False)), rank1 = the unshifted CBC lattice, lattice = i/n.
 */
public final class SamplerPoints {
  /** Domain constant "QMCREPLI" for replicate seeds. */
  public static final long DOMAIN_REPLICATE = 0x514d435245504c49L;

  /** Largest table (n * dims) built in memory. */
  public static final long MAX_VALUES = 20_000_000L;

  private SamplerPoints() {}

  /** Seed of replicate r: the seed itself for r = 0, hash(seed, DOMAIN_REPLICATE, r) after. */
  public static long replicateSeed(long seed, int replicate) {
    return replicate == 0 ? seed : KeyedHash.hash(seed, DOMAIN_REPLICATE, replicate);
  }

  /** n x dims uniforms of the sampler under prompt seed {@code promptSeed}. */
  public static double[][] randomized(SamplerSpec spec, int n, int dims, long promptSeed) {
    checkSize(n, dims);
    boolean carried =
        spec.coupling() == CouplingKind.LATTICE || spec.coupling() == CouplingKind.STRATIFIED;
    if (carried && dims != 1) {
      throw new BadInputException(
          "--dims "
              + dims
              + " is invalid for sampler "
              + spec.coupling().shortName()
              + ": a carried code is one number per sample (later codes depend on the tokens"
              + " chosen); expected --dims 1, or use --sampler rank1 for a multi-dimensional"
              + " lattice");
    }
    double[][] x = new double[n][dims];
    for (int i = 0; i < n; i++) {
      SampleNoise noise = CouplingNoiseFactory.INSTANCE.open(spec, promptSeed, i, n);
      for (int t = 0; t < dims; t++) {
        long code = noise.code();
        x[i][t] = FixedPoint.toDouble(code);
        if (t + 1 < dims) {
          long lo = code >>> 32; // token-level noises ignore the bucket; give them a valid one
          noise.advance(lo, 1);
        }
      }
    }
    return x;
  }

  /** n x dims coordinates of the sampler's deterministic construction (no randomization). */
  public static double[][] deterministic(CouplingKind coupling, int n, int dims) {
    checkSize(n, dims);
    PointSet p =
        switch (coupling) {
          case SOBOL -> {
            if (dims > SobolSequence.MAX_DIMENSION) {
              throw new BadInputException(
                  "--dims "
                      + dims
                      + " is too large for unrandomized sobol: expected <= "
                      + SobolSequence.MAX_DIMENSION);
            }
            yield new SobolSequence(n, dims);
          }
          case RANK1 -> {
            CbcConstruction.checkSupported(n);
            int max = CbcConstruction.defaultDimension(n);
            if (dims > max) {
              throw new BadInputException(
                  "--dims "
                      + dims
                      + " is too large for unrandomized rank1 with n="
                      + n
                      + ": expected <= "
                      + max);
            }
            yield Rank1Lattice.cbc(n, dims);
          }
          case LATTICE -> {
            if (dims != 1) {
              throw new BadInputException(
                  "--dims "
                      + dims
                      + " is invalid for sampler lattice: it is the 1-D lattice i/n; expected"
                      + " --dims 1");
            }
            yield new OneDimLattice(n);
          }
          default ->
              throw new BadInputException(
                  "--randomize none is not available for sampler "
                      + coupling.shortName()
                      + ": it is random by construction; expected one of sobol, rank1, lattice");
        };
    double[][] x = new double[n][dims];
    for (int i = 0; i < n; i++) {
      for (int t = 0; t < dims; t++) {
        x[i][t] = p.coordinateDouble(i, t);
      }
    }
    return x;
  }

  private static void checkSize(int n, int dims) {
    if (n < 1) {
      throw new BadInputException("--n " + n + " is invalid: expected >= 1");
    }
    if (dims < 1) {
      throw new BadInputException("--dims " + dims + " is invalid: expected >= 1");
    }
    if ((long) n * dims > MAX_VALUES) {
      throw new BadInputException(
          "--n "
              + n
              + " times --dims "
              + dims
              + " is too many values: expected at most "
              + MAX_VALUES);
    }
  }
}
