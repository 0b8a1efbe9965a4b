package quasiroll.common.qmc;

import quasiroll.common.sampler.SampleNoise;
import quasiroll.common.sampler.SamplerSpec;

/**
 * PLACEHOLDER (the qmc helper owns the real class): token-level QMC noise (sobol, rank1, lhs).
 * The integrator replaces this file with the real implementation of the same signature.
 */
public final class TokenLevelNoise {
  private TokenLevelNoise() {}

  public static SampleNoise open(SamplerSpec spec, long promptSeed, int index, int k) {
    throw new UnsupportedOperationException(
        "token-level QMC noise (" + spec.coupling().shortName() + ") is not merged yet");
  }
}
