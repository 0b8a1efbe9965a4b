package quasiroll.coordinator.job;

import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import quasiroll.cluster.wire.ToCoordinator;
import quasiroll.common.task.Verifier;
import quasiroll.v1.SampleResult;

/**
 * An admitted sample's way to its group: its reward (on the {@link VerifierPool}, never on the
 * actor, when its prompt has a verifier), then what its group's completion asks for: an adaptive
 * group grows (zero_variance GROW) or gives way to a reserve prompt (DROP), or a group that fell
 * behind the served policy version is regenerated.
 */
final class SampleScoring {
  private final ActorContext<ToCoordinator> ctx;
  private final JobTable jobs;
  private final ShardScheduler scheduler;
  private final VerifierPool verifierPool;
  private final ServedVersions versions;
  private final ShardDispatcher dispatcher;
  private final JobFinisher finisher;
  private final JobPersistence persistence;

  SampleScoring(
      ActorContext<ToCoordinator> ctx,
      JobTable jobs,
      ShardScheduler scheduler,
      VerifierPool verifierPool,
      ServedVersions versions,
      ShardDispatcher dispatcher,
      JobFinisher finisher,
      JobPersistence persistence) {
    this.ctx = ctx;
    this.jobs = jobs;
    this.scheduler = scheduler;
    this.verifierPool = verifierPool;
    this.versions = versions;
    this.dispatcher = dispatcher;
    this.finisher = finisher;
    this.persistence = persistence;
  }

  /**
   * Scores a sample (off the actor when its prompt has a verifier) and then completes it, or only
   * reports it ({@code reportOnly}: an aborted sample that is not part of its group).
   */
  void score(Job job, SampleResult r, boolean reportOnly, InFlightShard from) {
    Verifier v = job.verifierOf(r);
    if (v == null) {
      finishScoring(job, r, null, reportOnly);
      persistence.commitSoon();
    } else {
      // the call was reserved when the shard was sent (ShardDispatcher): the pool stays bounded
      boolean reserved = from != null && from.verifierSlots > 0;
      if (reserved) {
        from.verifierSlots--;
      }
      ActorRef<ToCoordinator> self = ctx.getSelf();
      verifierPool.score(
          job.id,
          reserved,
          v,
          r.getText(),
          reward -> self.tell(new JobManager.Scored(job.id, r, reward, reportOnly)));
    }
  }

  void onScored(JobManager.Scored m) {
    Job job = jobs.get(m.jobId());
    if (job != null) {
      finishScoring(job, m.result(), m.reward(), m.reportOnly());
    }
    persistence.commitSoon();
    dispatcher.wake(m.jobId());
  }

  private void finishScoring(
      Job job, SampleResult r, VerifierPool.Outcome reward, boolean reportOnly) {
    if (!job.active()) {
      return;
    }
    if (reportOnly) {
      job.report(r, reward);
      return;
    }
    Job.Outcome outcome =
        job.complete(
            r, reward, System.currentTimeMillis(), versions.latest(job.def.spec().getModel()));
    switch (outcome) {
      case GROW -> {
        int p = job.promptIndexOf(r.getPromptId());
        int size = job.groupSize(p);
        int[] more = new int[size / 2];
        java.util.Arrays.setAll(more, i -> size / 2 + i);
        scheduler.requeue(job.id, p, more);
        ctx.getLog()
            .info(
                "job {} prompt '{}': all rewards equal, grown to {} samples",
                job.id,
                r.getPromptId(),
                size);
        dispatcher.dispatch();
      }
      case DROP -> {
        int next = job.nextReservePrompt();
        if (next >= 0) {
          int first = Job.firstIndex(job.def);
          int[] all = new int[Job.indexCount(job.def)];
          java.util.Arrays.setAll(all, i -> first + i);
          scheduler.requeue(job.id, next, all);
          dispatcher.dispatch();
        }
      }
      case REGENERATE -> regenerate(job, r);
      default -> {}
    }
    if (!job.active()) {
      finisher.jobEnded(job);
    }
  }

  /** Starts prompt r's group again on the newest version (abort mode or max_staleness). */
  void regenerate(Job job, SampleResult r) {
    int p = job.promptIndexOf(r.getPromptId());
    long to = versions.latest(job.def.spec().getModel());
    scheduler.requeue(job.id, p, job.regenerate(p, to));
    ctx.getLog()
        .info(
            "job {} prompt '{}' regenerated on policy version {} ({})",
            job.id,
            r.getPromptId(),
            to,
            r.getFinishReason() == quasiroll.v1.FinishReason.FINISH_REASON_ABORTED
                ? "a publish in abort mode cut it short"
                : "it fell more than max_staleness behind");
    dispatcher.dispatch();
  }
}
