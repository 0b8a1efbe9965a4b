package quasiroll.sweep;

import java.util.function.Consumer;
import quasiroll.v1.JobSpec;
import quasiroll.v1.SampleResult;

/**
 * Runs rollout jobs for a sweep: on a cluster through the v1 API ({@link ClusterRunner}) or inside
 * this process ({@link InProcessRunner}). Both take the same {@link JobSpec}, so a sweep's results
 * do not depend on where it ran (the samples are a pure function of the spec and the model).
 */
public interface RolloutRunner extends AutoCloseable {
  /**
   * Runs {@code job} to completion and hands every sample to {@code out} (any order; a sample may
   * arrive twice after a retry, with the same content). Throws if the job fails.
   */
  void run(JobSpec job, Consumer<SampleResult> out);

  /**
   * How many jobs a sweep should keep in flight at once. A cluster overlaps one job's submission
   * and tail with another's decoding; an in-process runner already spreads each job over its
   * threads.
   */
  default int concurrentJobs() {
    return 1;
  }

  /** Where jobs run, for progress and report lines (e.g. "cluster at localhost:7443"). */
  String describe();

  @Override
  default void close() {}
}
