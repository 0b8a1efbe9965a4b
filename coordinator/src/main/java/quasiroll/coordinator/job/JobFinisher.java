package quasiroll.coordinator.job;

import java.util.HashSet;
import java.util.Set;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import quasiroll.cluster.wire.ToCoordinator;
import quasiroll.cluster.wire.ToWorker;
import quasiroll.cluster.wire.ToWorker.CancelJobWork;
import quasiroll.v1.JobState;

/**
 * What happens when a job reaches a final state (succeeded, failed, cancelled): its queue is
 * forgotten, workers still on a failed or cancelled job are told to stop, and with a job store the
 * job is committed and leaves memory. A job's failure never touches other jobs.
 */
final class JobFinisher {
  private final ActorContext<ToCoordinator> ctx;
  private final JobTable jobs;
  private final ShardScheduler scheduler;
  private final InFlightShards inFlight;
  private final WorkerRegistry workers;
  private final JobManagerMetrics metrics;
  private final JobPersistence persistence;
  private final VerifierPool verifiers;

  JobFinisher(
      ActorContext<ToCoordinator> ctx,
      JobTable jobs,
      ShardScheduler scheduler,
      InFlightShards inFlight,
      WorkerRegistry workers,
      JobManagerMetrics metrics,
      JobPersistence persistence,
      VerifierPool verifiers) {
    this.verifiers = verifiers;
    this.ctx = ctx;
    this.jobs = jobs;
    this.scheduler = scheduler;
    this.inFlight = inFlight;
    this.workers = workers;
    this.metrics = metrics;
    this.persistence = persistence;
  }

  /** Fails a job and stops its work; other jobs are untouched. */
  void failJob(Job job, String why) {
    if (job.active()) {
      job.fail(why, System.currentTimeMillis());
      jobEnded(job);
    }
  }

  /**
   * A job reached a final state: forget its queue; when it failed or was cancelled, tell workers
   * still on it to stop (a succeeded job's shards in flight are only finishing).
   */
  void jobEnded(Job job) {
    scheduler.removeJob(job.id);
    verifiers.cancel(job.id); // its queued calls are dropped, running ones interrupted
    Set<ActorRef<ToWorker>> busy = new HashSet<>();
    if (job.state() != JobState.JOB_STATE_SUCCEEDED) {
      for (InFlightShard f : inFlight.all()) {
        if (f.shard.jobId().equals(job.id) && workers.get(f.workerId) != null) {
          busy.add(workers.get(f.workerId).agent);
        }
      }
    }
    busy.forEach(a -> a.tell(new CancelJobWork(job.id)));
    if (job.state() == JobState.JOB_STATE_FAILED) {
      ctx.getLog().error("job {} FAILED: {}", job.id, job.error());
    } else {
      org.slf4j.Logger log = ctx.getLog();
      (Job.logsQuietly(job.def.spec()) ? log.atDebug() : log.atInfo())
          .log("job {} {}", job.id, job.state());
    }
    metrics.updateGauges();
    if (persistence.store() != null) {
      // Committed, then served from the store: nothing of a finished job stays on the heap.
      persistence.commitThenOnActor(() -> jobs.remove(job.id));
    }
  }
}
