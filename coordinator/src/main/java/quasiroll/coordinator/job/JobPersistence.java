package quasiroll.coordinator.job;

import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import quasiroll.cluster.wire.ToCoordinator;
import quasiroll.coordinator.events.JobEventLog;
import quasiroll.coordinator.events.JobEventLogs;
import quasiroll.coordinator.sink.JsonlSink;
import quasiroll.coordinator.store.JobStore;
import quasiroll.v1.JobState;

/**
 * When what is staged in the job store is committed (and so reaches client streams), and how the
 * jobs in the store are resumed on start. Without a store, commits only publish to the event logs.
 *
 * <p>What must hold (docs/operations.md): a job's spec is committed before its id is returned;
 * samples are committed at most {@link #FLUSH_INTERVAL} after they are staged and always before the
 * shard they belong to is acknowledged; a store that cannot commit stops the coordinator.
 */
final class JobPersistence {
  /** How long staged samples may wait for their commit (and client streams for them). */
  static final Duration FLUSH_INTERVAL = Duration.ofMillis(50);

  private final ActorContext<ToCoordinator> ctx;
  private final JobEventLogs logs;
  private final JobStore store;
  private final SinkThreads sinks;
  private boolean flushScheduled;

  JobPersistence(ActorContext<ToCoordinator> ctx, JobEventLogs logs, SinkThreads sinks) {
    this.ctx = ctx;
    this.sinks = sinks;
    this.logs = logs;
    this.store = logs.store();
  }

  /** Where jobs' sinks are written (off the actor). */
  SinkThreads sinks() {
    return sinks;
  }

  /** The durable store, or null when jobs live only in memory. */
  JobStore store() {
    return store;
  }

  /**
   * Commits what is staged and publishes it to client streams. A store that cannot commit (disk
   * full, I/O error) stops the coordinator: it cannot promise durability any more, and a restart
   * resumes from the last commit with nothing lost.
   */
  void commit() {
    try {
      logs.commit();
    } catch (JobStore.StoreException e) {
      ctx.getLog()
          .error(
              "the job store failed; stopping the coordinator (a restart resumes every job"
                  + " from the last commit): {}",
              e.getMessage());
      ctx.getSystem().terminate();
      throw e;
    }
  }

  /** Commits soon (within FLUSH_INTERVAL) when something is staged. */
  void commitSoon() {
    if (store != null && !flushScheduled && store.dirty()) {
      flushScheduled = true;
      ctx.scheduleOnce(FLUSH_INTERVAL, ctx.getSelf(), new JobManager.FlushTick());
    }
  }

  void onFlushTick() {
    flushScheduled = false;
    commit();
  }

  /**
   * Rebuilds every unfinished job in the store and queues exactly its samples that were never
   * stored. A job that cannot be rebuilt (its prompts file or verifier no longer validates, its
   * sink was changed) is failed, durably, with the reason.
   */
  void resume(JobSpecValidator validator, JobTable jobs, ShardScheduler scheduler) {
    long now = System.currentTimeMillis();
    for (JobStore.StoredJob sj : store.jobs(true)) {
      List<quasiroll.v1.JobEvent> events = store.events(sj.id());
      JobEventLog log = logs.restore(sj.id(), sj.owner(), events);
      try {
        ValidatedJob def = validator.validate(sj.spec(), true);
        JsonlSink sink =
            def.jsonlPath() == null ? null : JsonlSink.resume(def.jsonlPath(), sj.sinkOffset());
        Job job =
            Job.resume(
                sj.id(),
                def,
                log,
                sink,
                sinks.executor(),
                sinks.outcomesOf(sj.id()),
                store.groups(sj.id()),
                sj.submittedMs(),
                now);
        jobs.add(job);
        if (!job.active()) {
          continue;
        }
        Map<Integer, int[]> missing = new LinkedHashMap<>();
        int first = Job.firstIndex(def);
        long toRun = 0;
        // DROP's reserve prompts not yet started stay back; a grown group runs its new size
        for (int p = 0; p < job.startedPrompts(); p++) {
          int[] m = job.missing(p, job.indices(p));
          if (m.length > 0) {
            missing.put(p, m);
            toRun += m.length;
          }
        }
        scheduler.addResumedJob(
            job.id, def.spec().getModel(), job.promptCount(), first, Job.indexCount(def), missing);
        ctx.getLog()
            .info(
                "resumed job {}: {} samples stored, {} to compute",
                job.id,
                job.status().getSamplesDone(),
                toRun);
      } catch (RuntimeException e) {
        String why = "cannot resume after a coordinator restart: " + e.getMessage();
        ctx.getLog().error("job {} {}", sj.id(), why);
        if (!log.finished()) {
          quasiroll.v1.JobStatus last =
              events.stream()
                  .filter(quasiroll.v1.JobEvent::hasStatus)
                  .map(quasiroll.v1.JobEvent::getStatus)
                  .reduce((a, b) -> b)
                  .orElse(quasiroll.v1.JobStatus.getDefaultInstance());
          log.append(
              quasiroll.v1.JobEvent.newBuilder()
                  .setStatus(
                      last.toBuilder()
                          .setJobId(sj.id())
                          .setState(JobState.JOB_STATE_FAILED)
                          .setError(why)
                          .setWaitingReason("")
                          .setFinishedUnixMs(now)));
        }
      }
    }
    commit();
  }
}
