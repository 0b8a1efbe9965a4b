package quasiroll.sweep;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.ToDoubleFunction;
import quasiroll.sweep.plot.LinePlot;
import quasiroll.sweep.plot.PlotRenderer;

/**
 * Writes a sweep's outputs into its directory: results.csv, samples_saved.csv, plots/*.png and
 * *.svg, and report.md (tables, plots and how every number is computed).
 */
public final class SweepReport {
  private SweepReport() {}

  /**
   * @return the path of report.md
   */
  public static Path write(Path dir, SweepSpec spec, SweepAnalysis.Results results, RunInfo run) {
    ResultsCsv.write(dir.resolve("results.csv"), results.cells());
    ResultsCsv.writeSaved(dir.resolve("samples_saved.csv"), results.samplesSaved());
    Path plots = dir.resolve("plots");
    try {
      Files.createDirectories(plots);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot create " + plots, e);
    }
    List<String> images = new ArrayList<>();
    for (Map.Entry<String, List<CellResult>> panel :
        ResultTables.byPanel(results.cells()).entrySet()) {
      String slug = fileSlug(panel.getKey().replaceFirst("^task ", ""));
      for (LinePlot p : plots(panel.getKey(), panel.getValue(), spec.confidenceLevel())) {
        String name = slug + "-" + fileSlug(p.yLabel());
        PlotRenderer.write(p, plots.resolve(name));
        images.add("![" + p.title() + "](plots/" + name + ".png) ([svg](plots/" + name + ".svg))");
      }
    }
    StringBuilder md = new StringBuilder();
    md.append("# Sweep report: ").append(spec.name()).append("\n\n");
    md.append(
        String.format(
            Locale.ROOT,
            "Ran on %s (%s). This invocation ran %d of %d jobs in %.1f s; the sweep holds %d"
                + " samples, %d generated tokens.%n%n",
            run.runner(),
            RunInfo.machine(),
            run.jobsRun(),
            run.jobsTotal(),
            run.wallMillis() / 1000.0,
            run.samples(),
            run.tokens()));
    md.append("| spec | value |\n|---|---|\n");
    md.append("| models | ").append(String.join(", ", spec.models())).append(" |\n");
    md.append("| tasks | ");
    spec.tasks()
        .forEach(
            t ->
                md.append(t.name())
                    .append(" (")
                    .append(t.kind())
                    .append(", ")
                    .append(t.prompts())
                    .append(" prompts) "));
    md.append("|\n| samplers | ")
        .append(String.join(", ", spec.samplers().stream().map(SamplerLabel::of).toList()))
        .append(" |\n");
    md.append("| k | ").append(spec.ks()).append(" |\n");
    md.append("| temperatures | ").append(spec.temperatures()).append(" |\n");
    md.append("| replicates | ").append(spec.replicates()).append(" |\n");
    md.append("| iid baseline | ")
        .append(spec.baselineMultiple())
        .append(" × largest k = ")
        .append(spec.baselineK())
        .append(" samples per prompt per replicate |\n");
    md.append("| decode | max-new-tokens ")
        .append(spec.decode().maxNewTokens())
        .append(", top-k ")
        .append(spec.decode().topK())
        .append(", top-p ")
        .append(spec.decode().topP())
        .append(", min-p ")
        .append(spec.decode().minP())
        .append(", vocab order ")
        .append(spec.decode().vocabOrder().shortName())
        .append(" |\n");
    md.append("| seed | ").append(spec.seed()).append(" |\n\n");
    md.append("## pass@k\n\n").append(ResultTables.passAtK(spec, results.cells()));
    md.append("## pass@k against the union bound\n\n")
        .append(ResultTables.unionBoundFraction(spec, results.cells()));
    md.append("## Samples saved vs iid\n\n")
        .append(ResultTables.samplesSaved(spec, results.samplesSaved()));
    md.append("## Plots\n\n");
    images.forEach(i -> md.append(i).append("\n\n"));
    md.append(METHODS);
    Path report = dir.resolve("report.md");
    try {
      SweepStore.writeAtomically(report, md.toString());
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write " + report, e);
    }
    return report;
  }

  static final String METHODS =
      """
      ## How each number is computed

      - **Jobs.** Each cell (model, task, sampler, temperature, k) is estimated from `replicates`
        jobs with independent job seeds. The `iid` baseline runs once per replicate at
        `baseline-multiple` × the largest k (K) and every iid cell is estimated from those samples;
        `lattice` runs at K and smaller k are estimated from it when K and k are powers of two; every
        other sampler runs each k as its own job (a subset of its points is not distributed as its
        k-point set). The `run_k` and `estimator` columns of results.csv
        say which applied to each row.
      - **iid pass@k** per prompt: the unbiased estimator 1 − C(n−c, k)/C(n, k) over the n = replicates ×
        baseline-multiple × K pooled samples (c passing); distinct answers and the zero-variance probability use the same
        all-k-subsets average in closed form.
      - **lattice pass@k** per prompt: the average over the K/k stride subsets {r, r+K/k, …} of each
        replicate's group (each subset is itself a randomized lattice of k points), then over replicates.
      - **other samplers**: the fraction of replicate groups of k with a passing sample.
      - **Task level**: the mean over prompts, with a Wilson score interval over the prompts
        (prompts treated as a sample of the task; conservative because per-prompt values lie in [0, 1]).
      - **Union bound**: mean over prompts of min(1, k·p), p = the prompt's pass rate over all samples of
        every sampler (all are exact draws from the model); no sampler can exceed it in expectation.
      - **pass@k / union bound**: the task-level pass@k divided by the task-level union bound.
      - **Samples saved**: the iid pass@k curve at every integer k ≤ n = replicates × baseline-multiple × K
        is interpolated linearly in log k to find k_iid with iid pass@k_iid = the coupled sampler's pass@k;
        the saving is 1 − k/k_iid. The interval is a percentile bootstrap over prompts (2000 resamples,
        both samplers resampled together, seed derived from the sweep seed). Censoring: where iid does not
        reach the coupled pass@k within n samples, k_iid is only known to exceed n, so the estimate (or, when
        that happens only in some resamples, the interval's upper end) is capped at 1 − k/n; the report
        lists every such cell.
      - **Zero-variance groups**: groups of k whose rewards are all equal (no GRPO/RLOO signal).
      """;

  private static List<LinePlot> plots(String panel, List<CellResult> cells, double level) {
    Map<String, List<CellResult>> bySampler = new LinkedHashMap<>();
    for (CellResult c : cells) {
      bySampler.computeIfAbsent(c.cell().sampler(), x -> new ArrayList<>()).add(c);
    }
    String ci = String.format(Locale.ROOT, "%.0f%% CI", 100 * level);
    List<LinePlot.Series> pass = new ArrayList<>();
    List<LinePlot.Series> zero = new ArrayList<>();
    List<LinePlot.Series> distinct = new ArrayList<>();
    double maxDistinct = 1;
    for (Map.Entry<String, List<CellResult>> e : bySampler.entrySet()) {
      List<CellResult> rs = e.getValue();
      double[] x = values(rs, r -> r.cell().k());
      pass.add(
          new LinePlot.Series(
              e.getKey(),
              x,
              values(rs, r -> r.passAtK().estimate()),
              values(rs, r -> r.passAtK().lower()),
              values(rs, r -> r.passAtK().upper()),
              false));
      zero.add(
          new LinePlot.Series(
              e.getKey(),
              x,
              values(rs, r -> r.zeroVariance().estimate()),
              values(rs, r -> r.zeroVariance().lower()),
              values(rs, r -> r.zeroVariance().upper()),
              false));
      double[] d = values(rs, CellResult::distinctAnswers);
      distinct.add(LinePlot.Series.line(e.getKey(), x, d));
      for (double v : d) {
        maxDistinct = Math.max(maxDistinct, v);
      }
    }
    List<CellResult> first = bySampler.values().iterator().next();
    pass.add(
        new LinePlot.Series(
            "union bound",
            values(first, r -> r.cell().k()),
            values(first, CellResult::unionBound),
            null,
            null,
            true));
    return List.of(
        new LinePlot("pass@k, " + panel + " (bands: " + ci + ")", "k", "pass@k", true, 0, 1, pass),
        new LinePlot(
            "Zero-variance groups, " + panel + " (bands: " + ci + ")",
            "k",
            "zero-variance fraction",
            true,
            0,
            1,
            zero),
        new LinePlot(
            "Distinct answers per group, " + panel,
            "k",
            "distinct answers",
            true,
            0,
            Math.ceil(maxDistinct * 1.05),
            distinct));
  }

  /** A file-name part: letters, digits, '.', '-' ("pass@k" becomes "pass-at-k"). */
  static String fileSlug(String s) {
    return s.replace("@", "-at-")
        .replaceAll("[^A-Za-z0-9.-]+", "-")
        .replaceAll("^-+|-+$", "")
        .toLowerCase(Locale.ROOT);
  }

  private static double[] values(List<CellResult> rs, ToDoubleFunction<CellResult> f) {
    return rs.stream().mapToDouble(f).toArray();
  }
}
