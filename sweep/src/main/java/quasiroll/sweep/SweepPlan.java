package quasiroll.sweep;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import quasiroll.common.noise.KeyedHash;
import quasiroll.common.sampler.CouplingKind;
import quasiroll.common.sampler.SamplerSpec;
import quasiroll.common.stats.GroupEstimator;
import quasiroll.common.stats.SubsetScheme;

/**
 * Which jobs a sweep runs and which jobs each cell is estimated from.
 *
 * <p>A cell (model, task, sampler, temperature, k) is estimated from {@code replicates} jobs of
 * group size K >= k. When {@code derive-smaller-k} is on, K is the largest k of the grid wherever
 * that is statistically exact: i.i.d. (any k-subset of i.i.d. samples is i.i.d.: {@link
 * SubsetScheme#ALL_SUBSETS}) and lattice with K and k powers of two (every stride subset is a
 * randomized lattice: {@link SubsetScheme#STRIDE}). Every other sampler and k runs its own jobs at
 * K = k ({@link SubsetScheme#WHOLE_GROUP}), because a subset of its points is not distributed as
 * its k-point set.
 *
 * <p>The {@code iid} baseline of each (model, task, temperature) runs {@code replicates} jobs at
 * {@link SweepSpec#baselineK()} = {@code baseline-multiple} x the largest k, so its pass@k curve
 * reaches past every coupled k. With {@code derive-smaller-k} the {@code iid} cells are estimated
 * from those jobs too; without it they run their own jobs and the baseline jobs are extra.
 */
public final class SweepPlan {
  /** How one cell is estimated. */
  public record CellPlan(
      CellKey cell, SamplerSpec sampler, SubsetScheme scheme, int runK, List<JobKey> jobs) {}

  /** One job to run, with its seed. */
  public record PlannedJob(JobKey key, SamplerSpec sampler, long seed) {}

  /**
   * The {@code iid} baseline of one (model, task, temperature): its jobs, each of group size runK.
   */
  public record Baseline(
      String model, String task, double temperature, int runK, List<JobKey> jobs) {}

  private final List<CellPlan> cells;
  private final List<PlannedJob> jobs;
  private final List<Baseline> baselines;

  private SweepPlan(List<CellPlan> cells, List<PlannedJob> jobs, List<Baseline> baselines) {
    this.cells = List.copyOf(cells);
    this.jobs = List.copyOf(jobs);
    this.baselines = List.copyOf(baselines);
  }

  public static SweepPlan of(SweepSpec spec) {
    List<CellPlan> cells = new ArrayList<>();
    Map<JobKey, PlannedJob> jobs = new LinkedHashMap<>();
    SamplerSpec iid =
        spec.samplers().stream()
            .filter(s -> s.coupling() == CouplingKind.IID)
            .findFirst()
            .orElse(null);
    // Replicate-major order: an interrupted sweep has every sampler at a similar depth.
    for (int rep = 0; rep < spec.replicates(); rep++) {
      for (String model : spec.models()) {
        for (TaskSpec task : spec.tasks()) {
          for (double t : spec.temperatures()) {
            if (iid != null) {
              JobKey key =
                  new JobKey(model, task.name(), SamplerLabel.of(iid), t, spec.baselineK(), rep);
              jobs.computeIfAbsent(
                  key, kk -> new PlannedJob(kk, iid, KeyedHash.promptSeed(spec.seed(), kk.id())));
            }
            for (SamplerSpec s : spec.samplers()) {
              String label = SamplerLabel.of(s);
              for (int k : spec.ks()) {
                int runK = runK(spec, s, k);
                JobKey key = new JobKey(model, task.name(), label, t, runK, rep);
                jobs.computeIfAbsent(
                    key, kk -> new PlannedJob(kk, s, KeyedHash.promptSeed(spec.seed(), kk.id())));
              }
            }
          }
        }
      }
    }
    for (String model : spec.models()) {
      for (TaskSpec task : spec.tasks()) {
        for (double t : spec.temperatures()) {
          for (SamplerSpec s : spec.samplers()) {
            String label = SamplerLabel.of(s);
            for (int k : spec.ks()) {
              int runK = runK(spec, s, k);
              List<JobKey> keys = new ArrayList<>();
              for (int rep = 0; rep < spec.replicates(); rep++) {
                keys.add(new JobKey(model, task.name(), label, t, runK, rep));
              }
              SubsetScheme scheme = runK == k ? SubsetScheme.WHOLE_GROUP : schemeFor(s);
              if (s.coupling() == CouplingKind.IID) {
                scheme = SubsetScheme.ALL_SUBSETS; // also pools the replicates at runK == k
              }
              cells.add(
                  new CellPlan(
                      new CellKey(model, task.name(), label, t, k), s, scheme, runK, keys));
            }
          }
        }
      }
    }
    List<Baseline> baselines = new ArrayList<>();
    if (iid != null) {
      for (String model : spec.models()) {
        for (TaskSpec task : spec.tasks()) {
          for (double t : spec.temperatures()) {
            List<JobKey> keys = new ArrayList<>();
            for (int rep = 0; rep < spec.replicates(); rep++) {
              keys.add(
                  new JobKey(model, task.name(), SamplerLabel.of(iid), t, spec.baselineK(), rep));
            }
            baselines.add(new Baseline(model, task.name(), t, spec.baselineK(), keys));
          }
        }
      }
    }
    return new SweepPlan(cells, new ArrayList<>(jobs.values()), baselines);
  }

  /** The scheme under which a coupling's groups may be subset to smaller k. */
  public static SubsetScheme schemeFor(SamplerSpec s) {
    return switch (s.coupling()) {
      case IID -> SubsetScheme.ALL_SUBSETS;
      case LATTICE -> SubsetScheme.STRIDE;
      default -> SubsetScheme.WHOLE_GROUP;
    };
  }

  private static int runK(SweepSpec spec, SamplerSpec s, int k) {
    if (!spec.deriveSmallerK()) {
      return k;
    }
    if (s.coupling() == CouplingKind.IID) {
      return spec.baselineK();
    }
    int maxK = spec.maxK();
    return GroupEstimator.canDerive(schemeFor(s), maxK, k) ? maxK : k;
  }

  public List<CellPlan> cells() {
    return cells;
  }

  public List<PlannedJob> jobs() {
    return jobs;
  }

  /** The {@code iid} baselines (none when the sweep has no {@code iid} sampler). */
  public List<Baseline> baselines() {
    return baselines;
  }

  /** Samples the whole sweep draws: sum over jobs of prompts x K. */
  public long totalSamples(Map<String, Integer> promptsPerTask) {
    long n = 0;
    for (PlannedJob j : jobs) {
      n += (long) promptsPerTask.get(j.key().task()) * j.key().k();
    }
    return n;
  }
}
