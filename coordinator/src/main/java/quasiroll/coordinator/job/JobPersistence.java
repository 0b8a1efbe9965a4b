package quasiroll.coordinator.job;

import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.pekko.actor.typed.ActorRef;
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
 *
 * <p>How: the actor only stages (in memory) and cuts; the SQL writes and the fsync run on one
 * writer thread ({@link StoreWriter}), which commits every cut waiting for it in one transaction
 * (group commit) and only then publishes the events and runs what waited for the commit (an ack, a
 * reply). So the actor never waits for the disk, and many shards share one fsync.
 */
final class JobPersistence {
  /** How long staged samples may wait for their commit (and client streams for them). */
  static final Duration FLUSH_INTERVAL = Duration.ofMillis(50);

  private final ActorContext<ToCoordinator> ctx;
  private final JobEventLogs logs;
  private final JobStore store;
  private final StoreWriter writer;
  private final SinkThreads sinks;
  private boolean flushScheduled;

  JobPersistence(ActorContext<ToCoordinator> ctx, JobEventLogs logs, SinkThreads sinks) {
    this.ctx = ctx;
    this.sinks = sinks;
    this.logs = logs;
    this.store = logs.store();
    ActorRef<ToCoordinator> self = ctx.getSelf();
    this.writer =
        store == null
            ? null
            : new StoreWriter(store, e -> self.tell(new JobManager.StoreFailed(e)));
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
   * Commits what is staged now, on the calling thread, and publishes it to client streams (only for
   * resume, before the writer has anything). A store that cannot commit stops the coordinator.
   */
  void commitNow() {
    try {
      logs.commit();
    } catch (JobStore.StoreException e) {
      onStoreFailed(e);
      throw e;
    }
  }

  /**
   * Commits everything staged so far (and everything cut before) and then runs {@code afterCommit}
   * on the writer thread: it must be thread-safe (a reply, an ack). Without a store it runs at
   * once.
   */
  void commitThen(Runnable afterCommit) {
    if (writer == null) {
      logs.commit();
      if (afterCommit != null) {
        afterCommit.run();
      }
      return;
    }
    writer.submit(logs.cut(), afterCommit);
  }

  /** As {@link #commitThen}, with {@code onActor} run on the job manager's actor afterwards. */
  void commitThenOnActor(Runnable onActor) {
    if (writer == null) {
      commitThen(onActor);
      return;
    }
    ActorRef<ToCoordinator> self = ctx.getSelf();
    commitThen(() -> self.tell(new JobManager.AfterCommit(onActor)));
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
    commitThen(null);
  }

  /**
   * The store failed (disk full, I/O error): the coordinator stops, since it cannot promise
   * durability any more; a restart resumes from the last commit with nothing lost.
   */
  void onStoreFailed(JobStore.StoreException e) {
    ctx.getLog()
        .error(
            "the job store failed; stopping the coordinator (a restart resumes every job"
                + " from the last commit): {}",
            e.getMessage());
    ctx.getSystem().terminate();
  }

  /** Writes what was cut before and stops the writer (the actor stopped). */
  void close() {
    if (writer != null) {
      writer.close();
    }
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
    commitNow();
  }
}
