package quasiroll.sweep;

import java.util.List;
import quasiroll.common.sampler.DecodeParams;
import quasiroll.common.sampler.SamplerSpec;

/**
 * A sweep: the grid models x tasks x samplers x k x temperatures, each cell run with {@code
 * replicates} independent job seeds. Parsed from HOCON or JSON by {@link SweepSpecParser}; its
 * {@link SweepSpecParser#fingerprint fingerprint} guards an output directory against being
 * continued with a different spec.
 *
 * @param name shown in reports
 * @param seed the sweep seed; every job seed derives from it and the job's key
 * @param models model ids as workers register them
 * @param tasks the tasks (prompts + verifier)
 * @param samplers couplings to compare; "iid" is needed for the samples-saved table
 * @param ks group sizes, ascending, distinct
 * @param temperatures sampling temperatures, each > 0
 * @param replicates independent randomizations per cell (distinct job seeds), >= 1
 * @param decode decode parameters; the temperature is replaced per cell
 * @param confidenceLevel two-sided level of every interval in the outputs
 * @param deriveSmallerK run derivable samplers once at the largest k and estimate smaller k (see
 *     {@link quasiroll.common.stats.SubsetScheme}); false runs every k as its own job
 * @param baselineMultiple the {@code iid} baseline runs at this multiple of the largest k (its jobs
 *     have group size {@code baselineMultiple * maxK()}), so that the i.i.d. pass@k curve reaches
 *     past every coupled k and samples saved is measured rather than bounded; 1 stops the baseline
 *     at the largest k
 */
public record SweepSpec(
    String name,
    long seed,
    List<String> models,
    List<TaskSpec> tasks,
    List<SamplerSpec> samplers,
    List<Integer> ks,
    List<Double> temperatures,
    int replicates,
    DecodeParams decode,
    double confidenceLevel,
    boolean deriveSmallerK,
    int baselineMultiple) {

  /** What a spec file without {@code baseline-multiple} gets. */
  public static final int DEFAULT_BASELINE_MULTIPLE = 4;

  public SweepSpec {
    if (baselineMultiple < 1) {
      throw new quasiroll.common.error.BadInputException(
          "baseline-multiple "
              + baselineMultiple
              + " is invalid: expected an integer >= 1 (1 = the iid baseline stops at the largest"
              + " k)");
    }
    models = List.copyOf(models);
    tasks = List.copyOf(tasks);
    samplers = List.copyOf(samplers);
    ks = List.copyOf(ks);
    temperatures = List.copyOf(temperatures);
  }

  public int maxK() {
    return ks.get(ks.size() - 1);
  }

  /** The group size of the {@code iid} baseline's jobs. */
  public int baselineK() {
    return Math.multiplyExact(maxK(), baselineMultiple);
  }

  /** The largest group size any job of this sweep has. */
  public int largestJobK() {
    return samplers.stream()
            .anyMatch(s -> s.coupling() == quasiroll.common.sampler.CouplingKind.IID)
        ? baselineK()
        : maxK();
  }

  /** This spec on other models (everything else kept). */
  public SweepSpec withModels(List<String> newModels) {
    return new SweepSpec(
        name,
        seed,
        newModels,
        tasks,
        samplers,
        ks,
        temperatures,
        replicates,
        decode,
        confidenceLevel,
        deriveSmallerK,
        baselineMultiple);
  }
}
