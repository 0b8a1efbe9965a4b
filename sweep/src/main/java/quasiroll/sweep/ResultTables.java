package quasiroll.sweep;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import quasiroll.common.stats.SamplesSaved;

/**
 * The pass@k and samples-saved tables as Markdown (the report, and the terminal: Markdown tables
 * read fine as plain text).
 */
public final class ResultTables {
  private ResultTables() {}

  /**
   * One pass@k table per (model, task, temperature): a row per sampler plus the union bound, a
   * column per k.
   */
  public static String passAtK(SweepSpec spec, List<CellResult> cells) {
    StringBuilder b = new StringBuilder();
    for (Map.Entry<String, List<CellResult>> e : byPanel(cells).entrySet()) {
      b.append("**")
          .append(e.getKey())
          .append("** — pass@k [")
          .append(pct(spec.confidenceLevel()))
          .append(" CI]\n\n");
      header(b, "sampler", spec.ks());
      Map<String, Map<Integer, CellResult>> rows = new LinkedHashMap<>();
      for (CellResult r : e.getValue()) {
        rows.computeIfAbsent(r.cell().sampler(), x -> new LinkedHashMap<>()).put(r.cell().k(), r);
      }
      Map<Integer, Double> union = new LinkedHashMap<>();
      for (Map.Entry<String, Map<Integer, CellResult>> row : rows.entrySet()) {
        b.append("| ").append(row.getKey());
        for (int k : spec.ks()) {
          CellResult r = row.getValue().get(k);
          union.put(k, r.unionBound());
          b.append(
              String.format(
                  Locale.ROOT,
                  " | %.3f [%.3f, %.3f]",
                  r.passAtK().estimate(),
                  r.passAtK().lower(),
                  r.passAtK().upper()));
        }
        b.append(" |\n");
      }
      b.append("| union bound min(1, k·p)");
      for (int k : spec.ks()) {
        b.append(String.format(Locale.ROOT, " | %.3f", union.get(k)));
      }
      b.append(" |\n\n");
    }
    return b.toString();
  }

  /**
   * pass@k / union bound: a row per (task, sampler), a column per k. 1 means the sampler reaches
   * the ceiling min(1, k·p) that no marginally exact sampler can beat in expectation.
   */
  public static String unionBoundFraction(SweepSpec spec, List<CellResult> cells) {
    StringBuilder b = new StringBuilder();
    b.append(
            "pass@k as a fraction of the union bound min(1, k·p) (p: each prompt's pass rate over"
                + " every sample of ")
        .append("the panel; 1 = the ceiling no exact sampler can beat in expectation).\n\n");
    header(b, "task / sampler", spec.ks());
    Map<String, Map<Integer, CellResult>> rows = new LinkedHashMap<>();
    boolean manyModels = spec.models().size() > 1;
    boolean manyTemps = spec.temperatures().size() > 1;
    for (CellResult r : cells) {
      CellKey c = r.cell();
      String name =
          c.task()
              + " / "
              + c.sampler()
              + (manyModels ? " / " + c.model() : "")
              + (manyTemps ? " / T=" + c.temperature() : "");
      rows.computeIfAbsent(name, x -> new LinkedHashMap<>()).put(c.k(), r);
    }
    for (Map.Entry<String, Map<Integer, CellResult>> row : rows.entrySet()) {
      b.append("| ").append(row.getKey());
      for (int k : spec.ks()) {
        CellResult r = row.getValue().get(k);
        double f = r == null ? Double.NaN : r.fractionOfUnionBound();
        b.append(Double.isNaN(f) ? " | –" : String.format(Locale.ROOT, " | %.2f", f));
      }
      b.append(" |\n");
    }
    return b.append('\n').toString();
  }

  /**
   * Samples saved vs i.i.d. at equal pass@k: a row per (task, coupled sampler), a column per k >=
   * 2.
   */
  public static String samplesSaved(SweepSpec spec, List<SweepAnalysis.SavedRow> rows) {
    if (rows.isEmpty()) {
      return "_No samples-saved table: the sweep needs the `iid` sampler and at least one other"
          + " sampler at some k >= 2._\n\n";
    }
    List<Integer> ks = spec.ks().stream().filter(k -> k >= 2).toList();
    StringBuilder b = new StringBuilder();
    b.append("Fraction of samples saved vs iid at equal pass@k, 1 − k/k_iid [")
        .append(pct(spec.confidenceLevel()))
        .append(" bootstrap CI over prompts]. `>` : iid does not reach the coupled ")
        .append(
            "pass@k within its largest k, so the saving is at least the value shown; `<`: below"
                + " iid's pass@1; ")
        .append(
            "`+` after the interval: its upper end is capped at 1 − k/(iid's largest k) (censored);"
                + " ")
        .append("`saturated`: the coupled pass@k is 1, nothing to compare. iid baseline: ")
        .append(spec.baselineMultiple())
        .append(" × the largest k per replicate (")
        .append(spec.replicates() * spec.baselineK())
        .append(" samples per prompt).\n\n");
    header(b, "task / sampler", ks);
    Map<String, Map<Integer, SweepAnalysis.SavedRow>> byRow = new LinkedHashMap<>();
    for (SweepAnalysis.SavedRow r : rows) {
      String name =
          r.task()
              + " / "
              + r.sampler()
              + (spec.models().size() > 1 ? " / " + r.model() : "")
              + (spec.temperatures().size() > 1 ? " / T=" + r.temperature() : "");
      byRow.computeIfAbsent(name, x -> new LinkedHashMap<>()).put(r.result().k(), r);
    }
    for (Map.Entry<String, Map<Integer, SweepAnalysis.SavedRow>> row : byRow.entrySet()) {
      b.append("| ").append(row.getKey());
      for (int k : ks) {
        SweepAnalysis.SavedRow r = row.getValue().get(k);
        if (r == null) {
          b.append(" | –");
          continue;
        }
        var s = r.result();
        if (s.bound() == SamplesSaved.Bound.SATURATED) {
          b.append(" | saturated");
          continue;
        }
        String mark =
            s.bound() == SamplesSaved.Bound.ABOVE_RANGE
                ? ">"
                : s.bound() == SamplesSaved.Bound.BELOW_RANGE ? "<" : "";
        b.append(" | ")
            .append(mark)
            .append(percent(s.savedFraction().estimate()))
            .append(" [")
            .append(percent(s.savedFraction().lower()))
            .append(", ")
            .append(percent(s.savedFraction().upper()))
            .append(']')
            .append(s.censoring() == SamplesSaved.Censoring.UPPER_END ? "+" : "");
      }
      b.append(" |\n");
    }
    b.append('\n').append(censoredCells(rows));
    return b.toString();
  }

  /** Which samples-saved cells are still censored and why, or that none is. */
  static String censoredCells(List<SweepAnalysis.SavedRow> rows) {
    List<String> lines = new ArrayList<>();
    for (SweepAnalysis.SavedRow r : rows) {
      SamplesSaved.Result s = r.result();
      String cell = r.task() + " / " + r.sampler() + " at k=" + s.k();
      String why =
          switch (s.censoring()) {
            case NONE -> null;
            case UPPER_END ->
                String.format(
                    Locale.ROOT,
                    "upper end capped: in %.0f%% of bootstrap resamples iid does not reach the"
                        + " coupled pass@k within its %d samples",
                    100 * s.resamplesAboveRange(),
                    s.iidMaxK());
            case ESTIMATE ->
                String.format(
                    Locale.ROOT,
                    "estimate is a lower bound: iid pass@%d stays below the coupled pass@%d = %.3f",
                    s.iidMaxK(),
                    s.k(),
                    s.coupledPass());
            case BELOW ->
                String.format(
                    Locale.ROOT,
                    "estimate is an upper bound: the coupled pass@%d = %.3f is below iid pass@1",
                    s.k(),
                    s.coupledPass());
            case SATURATED -> "the coupled pass@k is 1: nothing to compare";
          };
      if (why != null) {
        lines.add("- " + cell + ": " + why + "\n");
      }
    }
    if (lines.isEmpty()) {
      return rows.isEmpty()
          ? ""
          : "Censored cells: none (every estimate and interval end is measured).\n\n";
    }
    return "Censored cells ("
        + lines.size()
        + " of "
        + rows.size()
        + "):\n\n"
        + String.join("", lines)
        + "\n";
  }

  static Map<String, List<CellResult>> byPanel(List<CellResult> cells) {
    Map<String, List<CellResult>> m = new LinkedHashMap<>();
    Set<String> models = new LinkedHashSet<>();
    Set<Double> temps = new LinkedHashSet<>();
    cells.forEach(
        c -> {
          models.add(c.cell().model());
          temps.add(c.cell().temperature());
        });
    for (CellResult c : cells) {
      m.computeIfAbsent(panelName(c.cell(), models.size() > 1, true), x -> new ArrayList<>())
          .add(c);
    }
    return m;
  }

  static String panelName(CellKey c, boolean withModel, boolean withTemperature) {
    return "task "
        + c.task()
        + (withModel ? ", model " + c.model() : "")
        + (withTemperature ? ", T=" + c.temperature() : "");
  }

  private static void header(StringBuilder b, String first, List<Integer> ks) {
    b.append("| ").append(first);
    ks.forEach(k -> b.append(" | k=").append(k));
    b.append(" |\n|---");
    ks.forEach(k -> b.append("|---"));
    b.append("|\n");
  }

  /** A fraction as a whole percentage, never "-0%". */
  private static String percent(double fraction) {
    String p = String.format(Locale.ROOT, "%.0f%%", 100 * fraction);
    return p.equals("-0%") ? "0%" : p;
  }

  private static String pct(double level) {
    return String.format(Locale.ROOT, "%.0f%%", 100 * level);
  }
}
