package quasiroll.common.sampler;

import java.util.Arrays;
import java.util.stream.Collectors;
import quasiroll.common.error.BadInputException;

/** The ways the k samples of a prompt share noise. Short names are used everywhere. */
public enum CouplingKind {
  /** Independent uniforms: the baseline. */
  IID("iid"),
  /** Pairs (u, 1-u) per position: indices 2j and 2j+1 are antithetic. */
  ANTITHETIC("antithetic"),
  /** One carried code per sample, c_i = (i/k + shift) mod 1, decoded arithmetic-style. */
  LATTICE("lattice"),
  /** One carried code per sample, one uniform per stratum of width 1/k (strata permuted). */
  STRATIFIED("stratified"),
  /** Token-level scrambled Sobol' points (Joe-Kuo directions). */
  SOBOL("sobol"),
  /** Token-level randomly shifted rank-1 lattice (CBC generating vectors). */
  RANK1("rank1"),
  /** Token-level Latin hypercube. */
  LHS("lhs");

  private final String shortName;

  CouplingKind(String shortName) {
    this.shortName = shortName;
  }

  public String shortName() {
    return shortName;
  }

  public static CouplingKind parse(String name) {
    for (CouplingKind c : values()) {
      if (c.shortName.equals(name)) {
        return c;
      }
    }
    throw new BadInputException(
        "sampler '"
            + name
            + "' is unknown: expected one of "
            + Arrays.stream(values())
                .map(CouplingKind::shortName)
                .collect(Collectors.joining(", ")));
  }
}
