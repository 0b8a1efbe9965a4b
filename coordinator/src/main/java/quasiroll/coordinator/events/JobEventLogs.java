package quasiroll.coordinator.events;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import quasiroll.coordinator.store.JobStore;
import quasiroll.v1.JobEvent;

/**
 * Every job's event log by job id. The job manager adds logs; the client API reads them without a
 * round trip through the actor. Both run in the coordinator process (the job manager singleton
 * lives on the coordinator node).
 *
 * <p>With a {@link JobStore}: {@link #commit} commits everything staged and then publishes it to
 * readers; a job finished before the last restart is read back from the store on first request.
 */
public final class JobEventLogs {
  private final ConcurrentHashMap<String, JobEventLog> byJob = new ConcurrentHashMap<>();
  private final JobStore store;
  private final java.util.Set<JobEventLog> dirty = ConcurrentHashMap.newKeySet();

  /** Memory only. */
  public JobEventLogs() {
    this(null);
  }

  public JobEventLogs(JobStore store) {
    this.store = store;
  }

  public JobStore store() {
    return store;
  }

  public JobEventLog create(String jobId) {
    return create(jobId, "local");
  }

  public JobEventLog create(String jobId, String owner) {
    return add(jobId, new JobEventLog(jobId, owner, store, List.of()));
  }

  /** Adds the log of a job read back from the store (resumed or finished). */
  public JobEventLog restore(String jobId, String owner, List<JobEvent> committed) {
    return add(jobId, new JobEventLog(jobId, owner, store, committed));
  }

  private JobEventLog add(String jobId, JobEventLog log) {
    log.onStaged(dirty::add);
    if (byJob.putIfAbsent(jobId, log) != null) {
      throw new IllegalStateException("duplicate job id " + jobId);
    }
    return log;
  }

  public Optional<JobEventLog> get(String jobId) {
    JobEventLog log = byJob.get(jobId);
    if (log == null && store != null) {
      JobStore.StoredJob stored = store.job(jobId);
      if (stored != null && stored.finished()) {
        long count = store.eventCount(jobId);
        List<JobEvent> last = store.events(jobId, count - 1, 1);
        log =
            JobEventLog.stored(
                jobId, stored.owner(), store, count, last.isEmpty() ? null : last.get(0));
      }
    }
    return Optional.ofNullable(log);
  }

  /**
   * Commits the store and publishes what it committed, on the calling thread; a no-op without a
   * store.
   */
  public void commit() {
    if (store == null || !store.dirty()) {
      return;
    }
    Cut c = cut();
    store.write(List.of(c.batch()));
    c.publish();
  }

  /**
   * What is staged now, cut for a writer: {@link JobStore#write} its {@link Cut#batch}, then {@link
   * Cut#publish} it. Events staged after the cut go into the next one. Cuts must be written and
   * published in the order they were taken.
   */
  public Cut cut() {
    if (store == null) {
      return new Cut(null, List.of());
    }
    // Marks first, then the store's cut: an event staged in between is in this batch but above
    // its log's mark, so it is published with the next cut (after a commit either way).
    List<Map.Entry<JobEventLog, Long>> marks = new ArrayList<>();
    for (JobEventLog log : List.copyOf(dirty)) {
      dirty.remove(log);
      marks.add(Map.entry(log, log.mark()));
    }
    return new Cut(store.cut(), marks);
  }

  /**
   * A batch of staged writes and, per event log, the offset below which its events are in the
   * batch.
   */
  public final class Cut {
    private final JobStore.Batch batch;
    private final List<Map.Entry<JobEventLog, Long>> marks;

    private Cut(JobStore.Batch batch, List<Map.Entry<JobEventLog, Long>> marks) {
      this.batch = batch;
      this.marks = marks;
    }

    /** The store's writes (null without a store). */
    public JobStore.Batch batch() {
      return batch;
    }

    /** Makes this cut's events visible to client streams; call once the batch is committed. */
    public void publish() {
      for (Map.Entry<JobEventLog, Long> m : marks) {
        JobEventLog log = m.getKey();
        log.publishCommitted(m.getValue());
        if (log.finished()) {
          // Finished and committed: read back from the store on request (streams holding the
          // log keep reading it), so finished jobs take no memory here.
          byJob.remove(log.jobId(), log);
        }
      }
    }
  }
}
