package quasiroll.common.coupling;

import java.util.Set;
import java.util.TreeSet;
import quasiroll.common.error.BadInputException;
import quasiroll.common.noise.ExtensibleOrder;
import quasiroll.common.noise.LatticeCodes;
import quasiroll.common.noise.StratifiedCodes;
import quasiroll.common.sampler.CouplingKind;
import quasiroll.common.sampler.NoiseFactory;
import quasiroll.common.sampler.SampleNoise;
import quasiroll.common.sampler.SamplerSpec;

/**
 * The one place a sample's noise is opened: dispatches every {@link
 * quasiroll.common.sampler.CouplingKind} to its construction. iid and antithetic are token-level
 * hashes; lattice and stratified are carried codes ({@link CarriedCodeNoise}); sobol, rank1 and lhs
 * are token-level QMC points ({@link TokenLevelNoise}, which validates its own options).
 */
public final class CouplingNoiseFactory implements NoiseFactory {
  public static final CouplingNoiseFactory INSTANCE = new CouplingNoiseFactory();

  /**
   * Options every coupling accepts. {@code vocab_order} travels in the API's sampler options but is
   * applied by the token sampler (DecodeParams), not by the noise.
   */
  public static final Set<String> COMMON_OPTIONS = Set.of("vocab_order", ExtensibleOrder.OPTION);

  /**
   * Couplings whose groups can grow from k to k·2, k·4, ... keeping every sample already drawn
   * (option {@link ExtensibleOrder#OPTION}): iid (independent: any extra index is a fresh draw),
   * antithetic (pairs 2i, 2i+1; k even), lattice (codes in {@link ExtensibleOrder}), sobol (the
   * first n Sobol' points are a prefix of the first 2n) and rank1 (the embedded lattice: one
   * generating vector for the largest size, points in {@link ExtensibleOrder}). stratified cannot:
   * its k uniforms sit one in each stratum of width 1/k, and 2k strata of width 1/2k would need
   * each old uniform to fall in a particular half, which it does not. lhs cannot for the same
   * reason per dimension (a k-permutation does not refine into a 2k one).
   */
  public static final Set<CouplingKind> EXTENSIBLE =
      java.util.EnumSet.of(
          CouplingKind.IID,
          CouplingKind.ANTITHETIC,
          CouplingKind.LATTICE,
          CouplingKind.SOBOL,
          CouplingKind.RANK1);

  @Override
  public SampleNoise open(SamplerSpec spec, long promptSeed, int index, int k) {
    if (k < 1) {
      throw new BadInputException("k " + k + " is invalid: expected >= 1");
    }
    int extent = ExtensibleOrder.extent(spec.options(), k);
    if (extent > k && !EXTENSIBLE.contains(spec.coupling())) {
      throw new BadInputException(
          "sampler '"
              + spec.coupling().shortName()
              + "' cannot grow (option "
              + ExtensibleOrder.OPTION
              + "): only "
              + EXTENSIBLE.stream().map(CouplingKind::shortName).toList()
              + " keep the samples already drawn when a group grows");
    }
    if (extent > k && spec.coupling() == CouplingKind.ANTITHETIC && k % 2 != 0) {
      throw new BadInputException("antithetic groups grow only from an even k, not k=" + k);
    }
    if (index < 0 || index >= extent) {
      throw new BadInputException(
          "sample index "
              + index
              + " is outside [0, "
              + extent
              + ") with k="
              + k
              + (extent > k ? " grown to " + extent : ""));
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
        return new CarriedCodeNoise(
            promptSeed,
            index,
            extent > k
                ? LatticeCodes.extensibleCode(promptSeed, index, k)
                : LatticeCodes.initialCode(promptSeed, index, k),
            "");
      case STRATIFIED:
        checkNoOptions(spec);
        return new CarriedCodeNoise(
            promptSeed, index, StratifiedCodes.initialCode(promptSeed, index, k), "");
      case SOBOL:
      case RANK1:
      case LHS:
        return TokenLevelNoise.open(spec, promptSeed, index, k, extent);
      default:
        throw new IllegalStateException("unhandled coupling " + spec.coupling());
    }
  }

  /**
   * Checks that {@link #open} would accept {@code spec} for groups of {@code k}: option keys and
   * values and k limits, by the very rules {@code open} applies (the coordinator refuses a bad spec
   * with this before any worker sees it). Does not build point sets.
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
          "sampler '"
              + spec.coupling().shortName()
              + "' has no option(s) "
              + unknown
              + ": accepted options are "
              + new TreeSet<>(COMMON_OPTIONS));
    }
  }
}
