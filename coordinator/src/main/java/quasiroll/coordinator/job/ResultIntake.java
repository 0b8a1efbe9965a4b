package quasiroll.coordinator.job;

import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import quasiroll.cluster.wire.ToCoordinator;
import quasiroll.v1.DataPlaneAck;
import quasiroll.v1.SampleResult;

/**
 * What arrives on the workers' data plane streams: results, progress, and the end of a shard.
 *
 * <p>Results are accepted only on the data plane stream of the worker the shard is assigned to,
 * only while it is in flight, and only for that shard's prompt and indices; anything else (a forged
 * or stale result) is refused and counted ({@code quasiroll_coordinator_refused_results}). An
 * accepted result is deduplicated by {@link Job} (key: job, prompt, index) and then scored. A
 * shard's end is acknowledged only after its samples are committed.
 */
final class ResultIntake {
  private final ActorContext<ToCoordinator> ctx;
  private final JobTable jobs;
  private final InFlightShards inFlight;
  private final WorkerRegistry workers;
  private final ServedVersions versions;
  private final SampleScoring scoring;
  private final ShardRetries retries;
  private final ShardDispatcher dispatcher;
  private final JobPersistence persistence;
  private final JobManagerMetrics metrics;

  ResultIntake(
      ActorContext<ToCoordinator> ctx,
      JobTable jobs,
      InFlightShards inFlight,
      WorkerRegistry workers,
      ServedVersions versions,
      SampleScoring scoring,
      ShardRetries retries,
      ShardDispatcher dispatcher,
      JobPersistence persistence,
      JobManagerMetrics metrics) {
    this.ctx = ctx;
    this.jobs = jobs;
    this.inFlight = inFlight;
    this.workers = workers;
    this.versions = versions;
    this.scoring = scoring;
    this.retries = retries;
    this.dispatcher = dispatcher;
    this.persistence = persistence;
    this.metrics = metrics;
  }

  /** One actor message per batch: each result as a SampleArrived, then the shard's end. */
  void onResultsArrived(JobManager.ResultsArrived m) {
    for (SampleResult r : m.results()) {
      onSampleArrived(new JobManager.SampleArrived(m.workerId(), m.shardId(), r));
    }
    if (m.finished() != null) {
      onShardFinished(m.finished());
    }
  }

  void onSampleArrived(JobManager.SampleArrived m) {
    InFlightShard f = inFlight.get(m.shardId());
    Job job = f == null ? null : jobs.get(f.shard.jobId());
    if (f != null && job == null && f.workerId.equals(m.workerId())) {
      return; // the shard's job ended (and left memory) while the shard was still running
    }
    if (f == null
        || job == null
        || !f.workerId.equals(m.workerId())
        || !f.covers(job, m.result())) {
      metrics.refusedResults.increment();
      if (metrics.refusedResults.count() <= 10
          || ((long) metrics.refusedResults.count()) % 1000 == 0) {
        ctx.getLog()
            .warn(
                "refused a result from worker '{}' for shard '{}' (prompt '{}', index {}):"
                    + " not a shard in flight on that worker with that key ({} refused so far)",
                m.workerId(),
                m.shardId(),
                m.result().getPromptId(),
                m.result().getIndex(),
                (long) metrics.refusedResults.count());
      }
      return;
    }
    Job.Outcome outcome =
        job.accept(
            m.result(), System.currentTimeMillis(), versions.latest(job.def.spec().getModel()));
    switch (outcome) {
      case SUPERSEDED -> {
        // from a shard of a regenerated group: never mixed in, but an aborted sample is
        // still reported (tagged with its version), as the abort mode promises
        if (m.result().getFinishReason() == quasiroll.v1.FinishReason.FINISH_REASON_ABORTED) {
          scoring.score(job, m.result(), true, f);
        }
      }
      case REGENERATE -> {
        // cut short by a publish in abort mode: reported, and its group started again
        scoring.score(job, m.result(), true, f);
        scoring.regenerate(job, m.result());
      }
      case ACCEPTED -> {
        metrics.samples.increment();
        metrics.tokens.increment(m.result().getTokenIdsCount());
        f.accepted++;
        scoring.score(job, m.result(), false, f);
      }
      case DUPLICATE, VIOLATION -> {
        metrics.duplicates.increment();
        if (outcome == Job.Outcome.VIOLATION) {
          metrics.violations.increment();
        }
        f.duplicates++;
      }
      default -> {}
    }
  }

  void onProgressArrived(JobManager.ProgressArrived m) {
    InFlightShard f = inFlight.get(m.shardId());
    Job job = f == null ? null : jobs.get(f.shard.jobId());
    if (job != null) {
      job.progress(m.progress());
    }
  }

  void onShardFinished(JobManager.ShardFinished m) {
    InFlightShard f = inFlight.get(m.shardId());
    DataPlaneAck.Builder ack = DataPlaneAck.newBuilder().setShardId(m.shardId());
    if (f != null && !f.workerId.equals(m.workerId())) {
      metrics.refusedResults.increment();
      ctx.getLog()
          .warn(
              "refused a shard-done from worker '{}' for shard '{}' assigned to '{}'",
              m.workerId(),
              m.shardId(),
              f.workerId);
      f = null;
    } else if (f != null) {
      inFlight.remove(m.shardId());
    }
    if (f != null) {
      ack.setAccepted(f.accepted).setDuplicates(f.duplicates);
      WorkerState w = workers.get(f.workerId);
      if (w != null) {
        w.inFlight.remove(m.shardId());
      }
      metrics.shardLatency.record(System.nanoTime() - f.startNanos, TimeUnit.NANOSECONDS);
      if (m.error().isEmpty()) {
        retries.shardFailed(f, "the worker finished it without them", true, false);
      } else {
        retries.shardFailed(f, m.error(), true, m.permanent());
      }
      dispatcher.dispatch();
    }
    // The shard's samples are durable before the worker hears they were accepted.
    DataPlaneAck done = ack.build();
    persistence.commitThen(() -> m.ack().accept(done));
  }
}
