package quasiroll.sweep;

/**
 * Progress of a running sweep; every method has a no-op default. Called from one thread at a time.
 */
public interface SweepProgress {
  SweepProgress NONE = new SweepProgress() {};

  /** Before any job runs: totals, and how much a previous run already stored. */
  default void started(
      int totalJobs, int storedJobs, long totalSamples, long storedSamples, String runner) {}

  default void jobStarted(SweepPlan.PlannedJob job, int prompts) {}

  /** One more sample of the running job arrived, with its generated-token count. */
  default void sample(int tokens) {}

  default void jobFinished(SweepPlan.PlannedJob job, JobRecord record) {}

  default void finished() {}
}
