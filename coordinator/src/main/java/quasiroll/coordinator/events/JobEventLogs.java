package quasiroll.coordinator.events;

import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Every job's event log by job id. The job manager adds logs; the client API reads them
 * without a round trip through the actor. Both run in the coordinator process (the job
 * manager singleton lives on the coordinator node).
 */
public final class JobEventLogs {
  private final ConcurrentHashMap<String, JobEventLog> byJob = new ConcurrentHashMap<>();

  public JobEventLog create(String jobId) {
    return create(jobId, "local");
  }

  public JobEventLog create(String jobId, String owner) {
    JobEventLog log = new JobEventLog(owner);
    if (byJob.putIfAbsent(jobId, log) != null) {
      throw new IllegalStateException("duplicate job id " + jobId);
    }
    return log;
  }

  public Optional<JobEventLog> get(String jobId) {
    return Optional.ofNullable(byJob.get(jobId));
  }
}
