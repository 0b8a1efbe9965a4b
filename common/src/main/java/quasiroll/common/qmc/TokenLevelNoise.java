package quasiroll.common.qmc;

import quasiroll.common.sampler.SampleNoise;
import quasiroll.common.sampler.SamplerSpec;

/**
 * Token-level QMC noise: sample {@code index} at generated-token position t uses coordinate
 * t of point {@code index} of a randomized k-point set (scrambled Sobol', shifted rank-1
 * lattice, Latin hypercube). Work in progress: the body arrives in the next commits.
 */
public final class TokenLevelNoise {
  private TokenLevelNoise() {}

  /**
   * Opens the noise of sample {@code index} of {@code k} for the token-level couplings
   * SOBOL, RANK1 and LHS.
   *
   * @throws IllegalArgumentException for any other coupling
   */
  public static SampleNoise open(SamplerSpec spec, long promptSeed, int index, int k) {
    throw new UnsupportedOperationException("token-level noise for " + spec.coupling() + " not yet built");
  }
}
