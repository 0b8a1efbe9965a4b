package quasiroll.cli;

import java.io.PrintStream;
import java.util.Locale;
import quasiroll.sweep.JobRecord;
import quasiroll.sweep.SweepPlan;
import quasiroll.sweep.SweepProgress;

/**
 * The sweep's progress on stderr: jobs and samples done of the total, tokens/s, elapsed, ETA and
 * the running job. On a terminal one line is redrawn at most 5 times a second; otherwise a line is
 * printed per finished job.
 */
final class SweepProgressLine implements SweepProgress {
  private final PrintStream err;
  private final boolean tty;
  private int totalJobs;
  private int doneJobs;
  private long totalSamples;
  private long doneSamples;
  private long sessionSamples;
  private long sessionTokens;
  private long start;
  private long lastPrint;
  private String running = "";

  SweepProgressLine(PrintStream err, boolean tty) {
    this.err = err;
    this.tty = tty;
  }

  @Override
  public void started(
      int totalJobs, int storedJobs, long totalSamples, long storedSamples, String runner) {
    this.totalJobs = totalJobs;
    this.doneJobs = storedJobs;
    this.totalSamples = totalSamples;
    this.doneSamples = storedSamples;
    this.start = System.nanoTime();
    err.printf(
        Locale.ROOT,
        "sweep: %d jobs, %d samples on %s%s%n",
        totalJobs,
        totalSamples,
        runner,
        storedJobs > 0
            ? String.format(
                Locale.ROOT,
                " (%d jobs already done in the output directory; continuing)",
                storedJobs)
            : "");
  }

  @Override
  public void jobStarted(SweepPlan.PlannedJob job, int prompts) {
    running = label(job);
    print(true);
  }

  @Override
  public void sample(int tokens) {
    doneSamples++;
    sessionSamples++;
    sessionTokens += tokens;
    print(false);
  }

  @Override
  public void jobFinished(SweepPlan.PlannedJob job, JobRecord record) {
    doneJobs++;
    if (!tty) {
      err.printf(Locale.ROOT, "  done %s (%.1f s)%n", label(job), record.wallMillis() / 1000.0);
    }
    print(true);
  }

  @Override
  public void finished() {
    if (tty) {
      print(true);
      err.println();
    }
  }

  private void print(boolean force) {
    if (!tty) {
      return;
    }
    long now = System.nanoTime();
    if (!force && now - lastPrint < 200_000_000L) {
      return;
    }
    lastPrint = now;
    double secs = Math.max(1e-9, (now - start) / 1e9);
    long left = totalSamples - doneSamples;
    String eta = sessionSamples == 0 ? "?" : clock(left * secs / sessionSamples);
    err.print(
        String.format(
            Locale.ROOT,
            "\r[%s] jobs %d/%d  samples %d/%d (%.0f%%)  %.0f tok/s  %s elapsed  ETA %s  %s\u001b[K",
            bar((double) doneSamples / Math.max(1, totalSamples)),
            doneJobs,
            totalJobs,
            doneSamples,
            totalSamples,
            100.0 * doneSamples / Math.max(1, totalSamples),
            sessionTokens / secs,
            clock(secs),
            eta,
            running));
    err.flush();
  }

  private static String label(SweepPlan.PlannedJob job) {
    var k = job.key();
    return String.format(
        Locale.ROOT, "%s %s k=%d rep %d", k.task(), k.sampler(), k.k(), k.replicate());
  }

  private static String bar(double frac) {
    int n = (int) Math.round(20 * Math.min(1, frac));
    return "#".repeat(n) + ".".repeat(20 - n);
  }

  private static String clock(double secs) {
    long s = Math.round(secs);
    return String.format(Locale.ROOT, "%d:%02d", s / 60, s % 60);
  }
}
