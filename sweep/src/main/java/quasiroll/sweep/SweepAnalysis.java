package quasiroll.sweep;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import quasiroll.common.noise.KeyedHash;
import quasiroll.common.sampler.CouplingKind;
import quasiroll.common.stats.GroupEstimates;
import quasiroll.common.stats.GroupEstimator;
import quasiroll.common.stats.PassAtK;
import quasiroll.common.stats.PromptBootstrap;
import quasiroll.common.stats.PromptMean;
import quasiroll.common.stats.SampleGroup;
import quasiroll.common.stats.SamplesSaved;
import quasiroll.common.stats.SubsetScheme;

/**
 * Turns the stored jobs of a completed sweep into per-cell estimates and the samples-saved table.
 * Pure computation over the store: rerunning it gives identical numbers (the bootstrap seeds derive
 * from the sweep seed).
 */
public final class SweepAnalysis {
  private static final long DOMAIN_BOOTSTRAP = 0x424f4f5453545250L; // "BOOTSTRP"

  /** One row of the samples-saved table: a coupled sampler at k against i.i.d. */
  public record SavedRow(
      String model, String task, double temperature, String sampler, SamplesSaved.Result result) {}

  /** Everything the reports show. */
  public record Results(List<CellResult> cells, List<SavedRow> samplesSaved) {}

  private SweepAnalysis() {}

  public static Results analyze(SweepSpec spec, SweepPlan plan, SweepStore store) {
    Map<JobKey, JobRecord> records = new HashMap<>();
    for (SweepPlan.PlannedJob j : plan.jobs()) {
      records.put(j.key(), store.load(j.key()));
    }
    Map<String, double[]> poolRates = pooledPassRates(records);
    List<CellResult> cells = new ArrayList<>();
    Map<CellKey, double[]> perPromptPass = new LinkedHashMap<>();
    for (SweepPlan.CellPlan cp : plan.cells()) {
      List<List<SampleGroup>> byPrompt = groupsByPrompt(cp.jobs(), records);
      int prompts = byPrompt.size();
      double[] pass = new double[prompts];
      double[] zeroVar = new double[prompts];
      double distinct = 0;
      double reward = 0;
      double passRate = 0;
      for (int j = 0; j < prompts; j++) {
        GroupEstimates e = GroupEstimator.estimate(byPrompt.get(j), cp.cell().k(), cp.scheme());
        pass[j] = e.passAtK();
        zeroVar[j] = e.zeroVarianceProbability();
        distinct += e.distinctAnswers();
        reward += e.meanReward();
        passRate += e.passRate();
      }
      double[] rates =
          poolRates.get(poolKey(cp.cell().model(), cp.cell().task(), cp.cell().temperature()));
      double union = 0;
      for (double p : rates) {
        union += PassAtK.unionBound(cp.cell().k(), p);
      }
      perPromptPass.put(cp.cell(), pass);
      cells.add(
          new CellResult(
              cp.cell(),
              prompts,
              spec.replicates(),
              cp.scheme(),
              cp.runK(),
              PromptMean.of(pass, spec.confidenceLevel()),
              reward / prompts,
              PromptMean.of(zeroVar, spec.confidenceLevel()),
              distinct / prompts,
              union / rates.length,
              passRate / prompts));
    }
    return new Results(cells, samplesSaved(spec, plan, records, perPromptPass));
  }

  private static List<SavedRow> samplesSaved(
      SweepSpec spec,
      SweepPlan plan,
      Map<JobKey, JobRecord> records,
      Map<CellKey, double[]> perPromptPass) {
    List<SavedRow> rows = new ArrayList<>();
    for (SweepPlan.Baseline base : plan.baselines()) {
      // The i.i.d. curve at every integer k up to the baseline's pooled sample count
      // (replicates x baseline-multiple x the largest k).
      List<List<SampleGroup>> byPrompt = groupsByPrompt(base.jobs(), records);
      int n = base.runK() * base.jobs().size();
      int[] ks = new int[n];
      double[][] curve = new double[byPrompt.size()][n];
      for (int i = 0; i < n; i++) {
        ks[i] = i + 1;
        for (int j = 0; j < byPrompt.size(); j++) {
          curve[j][i] =
              GroupEstimator.estimate(byPrompt.get(j), i + 1, SubsetScheme.ALL_SUBSETS).passAtK();
        }
      }
      for (SweepPlan.CellPlan cp : plan.cells()) {
        CellKey c = cp.cell();
        if (cp.sampler().coupling() == CouplingKind.IID
            || c.k() < 2
            || !c.model().equals(base.model())
            || !c.task().equals(base.task())
            || c.temperature() != base.temperature()) {
          continue;
        }
        long seed =
            KeyedHash.promptSeed(KeyedHash.hash(spec.seed(), DOMAIN_BOOTSTRAP), c.toString());
        SamplesSaved.Result r =
            SamplesSaved.estimate(
                c.k(),
                perPromptPass.get(c),
                ks,
                curve,
                PromptBootstrap.DEFAULT_RESAMPLES,
                seed,
                spec.confidenceLevel());
        rows.add(new SavedRow(c.model(), c.task(), c.temperature(), c.sampler(), r));
      }
    }
    return rows;
  }

  /** Per prompt (task order), the groups of that prompt in the given jobs (replicate order). */
  private static List<List<SampleGroup>> groupsByPrompt(
      List<JobKey> jobs, Map<JobKey, JobRecord> records) {
    List<List<SampleGroup>> byPrompt = new ArrayList<>();
    for (JobKey key : jobs) {
      List<JobRecord.PromptOutcome> prompts = records.get(key).prompts();
      for (int j = 0; j < prompts.size(); j++) {
        if (byPrompt.size() <= j) {
          byPrompt.add(new ArrayList<>());
        }
        byPrompt.get(j).add(prompts.get(j).group());
      }
    }
    return byPrompt;
  }

  /** Per (model, task, temperature): each prompt's pass rate over every stored sample. */
  private static Map<String, double[]> pooledPassRates(Map<JobKey, JobRecord> records) {
    Map<String, long[][]> counts = new HashMap<>();
    for (Map.Entry<JobKey, JobRecord> e : records.entrySet()) {
      JobKey k = e.getKey();
      List<JobRecord.PromptOutcome> prompts = e.getValue().prompts();
      long[][] c =
          counts.computeIfAbsent(
              poolKey(k.model(), k.task(), k.temperature()), x -> new long[prompts.size()][2]);
      for (int j = 0; j < prompts.size(); j++) {
        SampleGroup g = prompts.get(j).group();
        c[j][0] += g.passCount();
        c[j][1] += g.size();
      }
    }
    Map<String, double[]> rates = new HashMap<>();
    counts.forEach(
        (key, c) -> {
          double[] r = new double[c.length];
          for (int j = 0; j < c.length; j++) {
            r[j] = (double) c[j][0] / c[j][1];
          }
          rates.put(key, r);
        });
    return rates;
  }

  private static String poolKey(String model, String task, double temperature) {
    return model + "\u0000" + task + "\u0000" + temperature;
  }
}
