package quasiroll.coordinator.job;

import java.util.HashSet;
import java.util.Set;
import quasiroll.cluster.wire.ShardTask;
import quasiroll.cluster.wire.ToWorker.AssignShard;
import quasiroll.v1.Prompt;

/**
 * Hands queued shards ({@link ShardScheduler}) to workers that have credits, an open data plane
 * stream and every served policy version loaded, and says why a job with queued work is waiting
 * when no worker can take it.
 *
 * <p>Each assignment pins the shard's group to a policy version (the newest when the group starts)
 * and records the shard as in flight on that worker: only that worker's results for it count.
 */
final class ShardDispatcher {
  private final WorkerRegistry workers;
  private final JobTable jobs;
  private final InFlightShards inFlight;
  private final ShardScheduler scheduler;
  private final ServedVersions versions;
  private final JobManagerMetrics metrics;
  private final JobPersistence persistence;
  private final VerifierPool verifiers;
  private final SinkThreads sinks;

  /** Jobs with queued work that the last dispatch held back (verifiers or sink behind). */
  private final Set<String> held = new HashSet<>();

  ShardDispatcher(
      WorkerRegistry workers,
      JobTable jobs,
      InFlightShards inFlight,
      ShardScheduler scheduler,
      ServedVersions versions,
      JobManagerMetrics metrics,
      JobPersistence persistence,
      VerifierPool verifiers,
      SinkThreads sinks) {
    this.verifiers = verifiers;
    this.sinks = sinks;
    this.workers = workers;
    this.jobs = jobs;
    this.inFlight = inFlight;
    this.scheduler = scheduler;
    this.versions = versions;
    this.metrics = metrics;
    this.persistence = persistence;
  }

  /** Hands queued shards to workers with credits and an open data plane. */
  void dispatch() {
    // Round robin, one shard per worker per round: workers that keep many credits out (a
    // continuous-batching worker asks for enough shards to fill its batch) share a job's
    // shards instead of the first one taking them all.
    held.clear();
    boolean assigned = true;
    while (assigned) {
      assigned = false;
      for (WorkerState w : workers.all()) {
        if (!w.planeOpen || w.credits <= 0 || !w.syncing.isEmpty()) {
          continue;
        }
        int capacity = w.info.capacity();
        ShardScheduler.Shard s =
            scheduler.next(w.info.model(), capacity, id -> mayTake(id, capacity));
        if (s != null) {
          assign(w, s);
          assigned = true;
        }
      }
    }
    updateWaitingReasons();
    metrics.updateGauges();
    persistence.commitSoon();
  }

  /**
   * Back-pressure: a job gets another shard (of at most {@code capacity} samples) only while its
   * sink keeps up and, when it has verifiers, while the verifier pool can take a call per sample.
   */
  private boolean mayTake(String jobId, int capacity) {
    Job job = jobs.get(jobId);
    boolean ok =
        job == null
            || (!sinks.behind(job)
                && (!job.hasVerifiers() || verifiers.mayReserve(jobId, capacity)));
    if (!ok) {
      held.add(jobId);
    }
    return ok;
  }

  /**
   * A verifier call or a sink write of job {@code jobId} ended: room may have opened for a held job
   * (this one, or another one waiting for room in the shared verifier pool).
   */
  void wake(String jobId) {
    if (!held.isEmpty()) {
      dispatch();
    }
  }

  private void assign(WorkerState w, ShardScheduler.Shard s) {
    Job job = jobs.get(s.jobId());
    Prompt p = job.prompt(s.promptIndex());
    var spec = job.def.spec();
    long version = job.pin(s.promptIndex(), versions.latest(spec.getModel()));
    ShardTask task =
        new ShardTask(
            s.shardId(),
            job.id,
            p.getId(),
            p.getText(),
            p.getTokenIdsList().stream().mapToInt(Integer::intValue).toArray(),
            spec.getK(),
            s.indices(),
            spec.getZeroVariance() == quasiroll.v1.ZeroVarianceMode.ZERO_VARIANCE_GROW
                ? spec.getSampler().toBuilder()
                    .putOptions(
                        quasiroll.common.noise.ExtensibleOrder.OPTION,
                        Integer.toString(job.growCap()))
                    .build()
                : spec.getSampler(),
            spec.getDecode(),
            spec.getSeed(),
            version,
            p.hasNoiseSeed(),
            p.getNoiseSeed());
    w.agent.tell(new AssignShard(task));
    w.credits--;
    w.inFlight.add(s.shardId());
    InFlightShard f = new InFlightShard(s, w.info.workerId(), job.epoch(s.promptIndex()));
    if (job.verifierOf(s.promptIndex()) != null
        && verifiers.tryReserve(job.id, s.indices().length)) {
      f.verifierSlots = s.indices().length;
    }
    inFlight.put(s.shardId(), f);
    job.markRunning();
    job.setWaitingReason("");
  }

  private void updateWaitingReasons() {
    Set<String> models = new HashSet<>();
    Set<String> connected = new HashSet<>();
    for (WorkerState w : workers.all()) {
      models.add(w.info.model());
      if (w.planeOpen) {
        connected.add(w.info.model());
      }
    }
    for (String id : scheduler.jobsWithWork()) {
      String model = scheduler.model(id);
      if (!models.contains(model)) {
        jobs.get(id).setWaitingReason("no live worker holds model '" + model + "'");
      } else if (!connected.contains(model)) {
        jobs.get(id)
            .setWaitingReason(
                "workers of model '"
                    + model
                    + "' joined but none has an open data plane stream (refused credentials or TLS?"
                    + " see their logs and quasiroll_coordinator_refused_calls)");
      }
    }
  }
}
