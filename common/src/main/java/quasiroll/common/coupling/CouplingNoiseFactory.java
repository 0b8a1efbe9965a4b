package quasiroll.common.coupling;

import java.util.Set;
import java.util.TreeSet;
import quasiroll.common.coupling.TokenLevelNoise;
import quasiroll.common.error.BadInputException;
import quasiroll.common.noise.LatticeCodes;
import quasiroll.common.noise.StratifiedCodes;
import quasiroll.common.sampler.NoiseFactory;
import quasiroll.common.sampler.SampleNoise;
import quasiroll.common.sampler.SamplerSpec;

/**
 * The one place a sample's noise is opened: dispatches every {@link
 * quasiroll.common.sampler.CouplingKind} to its construction. iid and antithetic are token-level
 * hashes; lattice and stratified are carried codes ({@link CarriedCodeNoise}); sobol, rank1
 * and lhs are token-level QMC points ({@link TokenLevelNoise}, which validates its own options).
 */
public final class CouplingNoiseFactory implements NoiseFactory {
  public static final CouplingNoiseFactory INSTANCE = new CouplingNoiseFactory();

  /**
   * Options every coupling accepts. {@code vocab_order} travels in the API's sampler options
   * but is applied by the token sampler (DecodeParams), not by the noise.
   */
  public static final Set<String> COMMON_OPTIONS = Set.of("vocab_order");

  @Override
  public SampleNoise open(SamplerSpec spec, long promptSeed, int index, int k) {
    if (k < 1) {
      throw new BadInputException("k " + k + " is invalid: expected >= 1");
    }
    if (index < 0 || index >= k) {
      throw new BadInputException("sample index " + index + " is outside [0, k) with k=" + k);
    }
    switch (spec.coupling()) {
      case IID:
        checkNoOptions(spec);
        return new IidNoise(promptSeed, index);
      case ANTITHETIC:
        checkNoOptions(spec);
        return new AntitheticNoise(promptSeed, index);
      case LATTICE:
        checkNoOptions(spec);
        return new CarriedCodeNoise(promptSeed, index, LatticeCodes.initialCode(promptSeed, index, k), "");
      case STRATIFIED:
        checkNoOptions(spec);
        return new CarriedCodeNoise(
            promptSeed, index, StratifiedCodes.initialCode(promptSeed, index, k), "");
      case SOBOL:
      case RANK1:
      case LHS:
        return TokenLevelNoise.open(spec, promptSeed, index, k);
      default:
        throw new IllegalStateException("unhandled coupling " + spec.coupling());
    }
  }

  /**
   * Checks that {@link #open} would accept {@code spec} for groups of {@code k}: option keys
   * and values and k limits, by the very rules {@code open} applies (the coordinator refuses
   * a bad spec with this before any worker sees it). Does not build point sets.
   *
   * @throws BadInputException naming the bad option, value or k
   */
  public static void check(SamplerSpec spec, int k) {
    if (k < 1) {
      throw new BadInputException("k " + k + " is invalid: expected >= 1");
    }
    switch (spec.coupling()) {
      case IID, ANTITHETIC, LATTICE, STRATIFIED -> checkNoOptions(spec);
      case SOBOL, RANK1, LHS -> TokenLevelNoise.check(spec, k);
      default -> throw new IllegalStateException("unhandled coupling " + spec.coupling());
    }
  }

  private static void checkNoOptions(SamplerSpec spec) {
    Set<String> unknown = new TreeSet<>(spec.options().keySet());
    unknown.removeAll(COMMON_OPTIONS);
    if (!unknown.isEmpty()) {
      throw new BadInputException(
          "sampler '" + spec.coupling().shortName() + "' has no option(s) " + unknown
              + ": accepted options are " + new TreeSet<>(COMMON_OPTIONS));
    }
  }
}
