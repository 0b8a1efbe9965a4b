package quasiroll.sweep;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A whole sweep, start to finish: open (or continue) the output directory, run the jobs it lacks,
 * analyse every stored job, write the outputs. Restartable: an interrupted sweep rerun with the
 * same spec and directory runs only the jobs that were not stored.
 */
public final class Sweep {
  /** What a finished sweep produced. */
  public record Outcome(Path report, SweepAnalysis.Results results, RunInfo run) {}

  private Sweep() {}

  public static Outcome run(
      SweepSpec spec,
      Path outDir,
      RolloutRunner runner,
      TaskCatalog catalog,
      SweepProgress progress) {
    Map<String, SweepTask> tasks = new LinkedHashMap<>();
    for (TaskSpec t : spec.tasks()) {
      SweepTask task = catalog.build(t);
      if (task.prompts().size() != t.prompts()) {
        throw new IllegalStateException(
            "task '"
                + t.name()
                + "' built "
                + task.prompts().size()
                + " prompts, the spec asks for "
                + t.prompts());
      }
      tasks.put(t.name(), task);
    }
    SweepPlan plan = SweepPlan.of(spec);
    SweepStore store = SweepStore.open(outDir, spec);
    long t0 = System.nanoTime();
    int ran = SweepExecutor.runMissing(spec, tasks, plan, store, runner, progress);
    long wall = (System.nanoTime() - t0) / 1_000_000;
    SweepAnalysis.Results results = SweepAnalysis.analyze(spec, plan, store);
    long samples = 0;
    long tokens = 0;
    for (SweepPlan.PlannedJob j : plan.jobs()) {
      JobRecord r = store.load(j.key());
      samples += (long) r.prompts().size() * r.k();
      tokens += r.tokens();
    }
    RunInfo run = new RunInfo(runner.describe(), ran, plan.jobs().size(), wall, samples, tokens);
    Path report = SweepReport.write(outDir, spec, results, run);
    return new Outcome(report, results, run);
  }
}
