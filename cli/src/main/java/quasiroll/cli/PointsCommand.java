package quasiroll.cli;

import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import quasiroll.common.coupling.SamplerPoints;
import quasiroll.common.error.BadInputException;
import quasiroll.common.sampler.CouplingKind;
import quasiroll.common.sampler.SamplerSpec;

/** {@code quasiroll points}: the uniforms a sampler gives a group of n samples, as CSV. */
@Command(
    name = "points",
    mixinStandardHelpOptions = true,
    description = {
      "Prints the uniforms a sampler gives n samples, as CSV: a header, then",
      "one row per point: replicate,index,x0,...,x{D-1}, where x_t is the",
      "sample's uniform at token position t (shortest round-trip doubles).",
      "Randomized rows come from the very noise the token sampler uses for a",
      "prompt whose seed is the replicate seed (replicate 0: --seed; r > 0: a",
      "keyed hash of (--seed, r)). lattice and stratified are carried codes",
      "(one code per sample), so they take --dims 1 only."
    })
public final class PointsCommand implements Callable<Integer> {
  @Option(
      names = "--sampler",
      required = true,
      description =
          "sobol, rank1, lhs (token-level QMC points), lattice, stratified (carried codes), iid,"
              + " antithetic.")
  String sampler;

  @Option(names = "--n", required = true, description = "Number of points (the group size k).")
  int n;

  @Option(
      names = "--dims",
      defaultValue = "1",
      description = "Number of coordinates (token positions) per point (default ${DEFAULT-VALUE}).")
  int dims;

  @Option(
      names = "--seed",
      defaultValue = "1",
      description = "Seed of replicate 0, used as the prompt seed (default ${DEFAULT-VALUE}).")
  long seed;

  @Option(
      names = "--replicates",
      defaultValue = "1",
      description = "Independent randomizations to print (default ${DEFAULT-VALUE}).")
  int replicates;

  @Option(
      names = "--randomize",
      defaultValue = "sampler",
      description =
          "sampler (default): the randomization sampling uses. none: the deterministic construction"
              + " (sobol: unscrambled from the origin, as scipy's scramble=False; rank1: the"
              + " unshifted CBC lattice; lattice: i/n); samplers random by construction refuse it.")
  String randomize;

  @Option(
      names = "--scramble",
      description = "sobol only: lms (default), owen or xor (digital shift only).")
  String scramble;

  @Override
  public Integer call() {
    CouplingKind coupling = CouplingKind.parse(sampler);
    if (scramble != null && coupling != CouplingKind.SOBOL) {
      throw new BadInputException("--scramble applies only to --sampler sobol, not to " + sampler);
    }
    if (!randomize.equals("sampler") && !randomize.equals("none")) {
      throw new BadInputException(
          "--randomize " + randomize + " is unknown: expected sampler or none");
    }
    if (replicates < 1) {
      throw new BadInputException("--replicates " + replicates + " is invalid: expected >= 1");
    }
    boolean none = randomize.equals("none");
    if (none && scramble != null) {
      throw new BadInputException("--scramble " + scramble + " conflicts with --randomize none");
    }
    if (none && replicates != 1) {
      throw new BadInputException(
          "--replicates " + replicates + " is pointless with --randomize none: expected 1");
    }
    SamplerSpec spec =
        new SamplerSpec(coupling, scramble == null ? Map.of() : Map.of("scramble", scramble));
    PrintWriter out =
        new PrintWriter(new java.io.OutputStreamWriter(System.out, StandardCharsets.UTF_8), false);
    StringBuilder header = new StringBuilder("replicate,index");
    for (int t = 0; t < dims; t++) {
      header.append(",x").append(t);
    }
    out.println(header);
    for (int r = 0; r < replicates; r++) {
      double[][] x =
          none
              ? SamplerPoints.deterministic(coupling, n, dims)
              : SamplerPoints.randomized(spec, n, dims, SamplerPoints.replicateSeed(seed, r));
      StringBuilder row = new StringBuilder();
      for (int i = 0; i < x.length; i++) {
        row.setLength(0);
        row.append(r).append(',').append(i);
        for (double v : x[i]) {
          row.append(',').append(v);
        }
        out.println(row);
      }
    }
    out.flush();
    return 0;
  }
}
