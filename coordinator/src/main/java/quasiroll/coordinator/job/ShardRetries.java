package quasiroll.coordinator.job;

import java.time.Duration;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.slf4j.MDC;
import quasiroll.cluster.wire.ToCoordinator;

/**
 * Shards that ended without all their samples: their missing indices are queued again, right away
 * when the worker was lost, after an exponential back-off ({@link JobManager.Settings}) when it
 * reported an error; past the attempt limit the job fails with the reason.
 */
final class ShardRetries {
  private final ActorContext<ToCoordinator> ctx;
  private final JobManager.Settings settings;
  private final JobTable jobs;
  private final ShardScheduler scheduler;
  private final InFlightShards inFlight;
  private final JobFinisher finisher;
  private final ShardDispatcher dispatcher;
  private final JobManagerMetrics metrics;

  ShardRetries(
      ActorContext<ToCoordinator> ctx,
      JobManager.Settings settings,
      JobTable jobs,
      ShardScheduler scheduler,
      InFlightShards inFlight,
      JobFinisher finisher,
      ShardDispatcher dispatcher,
      JobManagerMetrics metrics) {
    this.ctx = ctx;
    this.settings = settings;
    this.jobs = jobs;
    this.scheduler = scheduler;
    this.inFlight = inFlight;
    this.finisher = finisher;
    this.dispatcher = dispatcher;
    this.metrics = metrics;
  }

  /** Every shard in flight on {@code w} is lost with it ({@code why}: how it was lost). */
  void requeueAll(WorkerState w, String why) {
    for (String shardId : w.inFlight) {
      InFlightShard f = inFlight.remove(shardId);
      if (f != null) {
        shardFailed(f, "its worker " + f.workerId + " was lost (" + why + ")", false, false);
      }
    }
    w.inFlight.clear();
  }

  /**
   * A shard ended without all its samples. Its missing indices are retried as attempt n+1: right
   * away when its worker was lost, after an exponential back-off when the worker reported an error.
   * The job fails, with the reason, once a permanent error (bad input) has occurred {@code
   * permanentAttempts} times or any failure {@code transientAttempts} times in a row for these
   * indices.
   */
  void shardFailed(InFlightShard f, String why, boolean reportedError, boolean permanent) {
    Job job = jobs.get(f.shard.jobId());
    if (job == null || !job.active()) {
      return;
    }
    if (f.epoch != job.epoch(f.shard.promptIndex())) {
      return; // the group was regenerated: all its indices were queued again then
    }
    int[] missing = job.missing(f.shard.promptIndex(), f.shard.indices());
    if (missing.length == 0) {
      return;
    }
    int attempt = f.shard.attempt() + 1;
    String prompt = job.prompt(f.shard.promptIndex()).getId();
    MDC.put("job", job.id);
    MDC.put("shard", f.shard.shardId());
    try {
      if (reportedError) {
        metrics.failedShards.increment();
      }
      int limit = permanent ? settings.permanentAttempts() : settings.transientAttempts();
      if (attempt >= limit) {
        finisher.failJob(
            job,
            "a shard of prompt '"
                + prompt
                + "' failed "
                + attempt
                + " times"
                + (permanent ? " with a permanent error" : "")
                + "; last on worker "
                + f.workerId
                + ": "
                + why);
        return;
      }
      job.countRequeued();
      metrics.requeued.increment();
      if (!reportedError) {
        scheduler.requeue(job.id, f.shard.promptIndex(), missing, attempt);
        ctx.getLog()
            .warn(
                "re-queued {} of {} samples of shard {}: {}",
                missing.length,
                f.shard.indices().length,
                f.shard.shardId(),
                why);
        return;
      }
      Duration wait = settings.backoff(attempt);
      job.setWaitingReason(
          "retrying a shard of prompt '"
              + prompt
              + "' in "
              + wait.toMillis()
              + " ms (attempt "
              + (attempt + 1)
              + " of at most "
              + limit
              + ") after: "
              + why);
      ctx.getLog()
          .warn(
              "shard {} failed on worker {} (attempt {} of {}, retry in {} ms): {}",
              f.shard.shardId(),
              f.workerId,
              attempt,
              limit,
              wait.toMillis(),
              why);
      ctx.scheduleOnce(
          wait,
          ctx.getSelf(),
          new JobManager.RetryDue(job.id, f.shard.promptIndex(), missing, attempt));
    } finally {
      MDC.remove("job");
      MDC.remove("shard");
    }
  }

  /** A back-off is over: the indices still missing go back into the queue. */
  void onRetryDue(JobManager.RetryDue m) {
    Job job = jobs.get(m.jobId());
    if (job != null && job.active()) {
      scheduler.requeue(
          job.id, m.promptIndex(), job.missing(m.promptIndex(), m.indices()), m.attempt());
      dispatcher.dispatch();
    }
  }
}
