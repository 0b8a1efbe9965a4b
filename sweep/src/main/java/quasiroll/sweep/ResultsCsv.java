package quasiroll.sweep;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

/** Writes results.csv (one row per cell) and samples_saved.csv. RFC 4180 quoting. */
public final class ResultsCsv {
  static final String HEADER =
      "model,task,sampler,k,temperature,prompts,replicates,pass_at_k,pass_at_k_lo,pass_at_k_hi,"
          + "mean_reward,zero_variance_fraction,zero_variance_lo,zero_variance_hi,distinct_answers,"
          + "union_bound,pass_over_union_bound,pass_at_1,run_k,estimator";
  static final String SAVED_HEADER =
      "model,task,temperature,sampler,k,coupled_pass_at_k,iid_equivalent_k,bound,saved_fraction,saved_lo,saved_hi,"
          + "iid_max_k,censoring";

  private ResultsCsv() {}

  public static void write(Path file, List<CellResult> cells) {
    StringBuilder b = new StringBuilder(HEADER).append('\n');
    for (CellResult r : cells) {
      CellKey c = r.cell();
      b.append(
              String.join(
                  ",",
                  q(c.model()),
                  q(c.task()),
                  q(c.sampler()),
                  Integer.toString(c.k()),
                  num(c.temperature()),
                  Integer.toString(r.prompts()),
                  Integer.toString(r.replicates()),
                  num(r.passAtK().estimate()),
                  num(r.passAtK().lower()),
                  num(r.passAtK().upper()),
                  num(r.meanReward()),
                  num(r.zeroVariance().estimate()),
                  num(r.zeroVariance().lower()),
                  num(r.zeroVariance().upper()),
                  num(r.distinctAnswers()),
                  num(r.unionBound()),
                  num(r.fractionOfUnionBound()),
                  num(r.passRate()),
                  Integer.toString(r.runK()),
                  q(r.estimatorDescription())))
          .append('\n');
    }
    writeFile(file, b.toString());
  }

  public static void writeSaved(Path file, List<SweepAnalysis.SavedRow> rows) {
    StringBuilder b = new StringBuilder(SAVED_HEADER).append('\n');
    for (SweepAnalysis.SavedRow s : rows) {
      var r = s.result();
      b.append(
              String.join(
                  ",",
                  q(s.model()),
                  q(s.task()),
                  num(s.temperature()),
                  q(s.sampler()),
                  Integer.toString(r.k()),
                  num(r.coupledPass()),
                  num(r.iidEquivalentK()),
                  r.bound().name().toLowerCase(Locale.ROOT),
                  r.savedFraction() == null ? "" : num(r.savedFraction().estimate()),
                  r.savedFraction() == null ? "" : num(r.savedFraction().lower()),
                  r.savedFraction() == null ? "" : num(r.savedFraction().upper()),
                  Integer.toString(r.iidMaxK()),
                  r.censoring().name().toLowerCase(Locale.ROOT)))
          .append('\n');
    }
    writeFile(file, b.toString());
  }

  private static void writeFile(Path file, String content) {
    try {
      SweepStore.writeAtomically(file, content);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write " + file, e);
    }
  }

  /** Up to 6 significant digits, no trailing zeros ("1", "0.25", "0.0520833"). */
  static String num(double v) {
    if (!Double.isFinite(v)) {
      return "";
    }
    return new java.math.BigDecimal(v)
        .round(new java.math.MathContext(6))
        .stripTrailingZeros()
        .toPlainString();
  }

  static String q(String s) {
    if (s.contains(",") || s.contains("\"") || s.contains("\n")) {
      return "\"" + s.replace("\"", "\"\"") + "\"";
    }
    return s;
  }
}
