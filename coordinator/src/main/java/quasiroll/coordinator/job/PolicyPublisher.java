package quasiroll.coordinator.job;

import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;
import quasiroll.cluster.wire.ToCoordinator;
import quasiroll.cluster.wire.ToWorker;
import quasiroll.coordinator.policy.PolicyStore;
import quasiroll.v1.ModelPolicy;
import quasiroll.v1.PolicyStatus;
import quasiroll.v1.PublishMode;
import quasiroll.v1.PublishPolicyResponse;
import quasiroll.v1.WorkerPolicy;

/**
 * Publishing policy versions to the workers of a model: a staged policy gets the model's next
 * version, every worker serving the model loads it, and only then does it become the newest served
 * version (new groups start on it); one refusal or a timeout ({@link JobManager#PUBLISH_TIMEOUT})
 * drops it and the old version keeps serving. Publishes of one model run one at a time, in arrival
 * order. A worker that (re)joins loads every version still served before it gets shards.
 */
final class PolicyPublisher {
  /** A publish waiting for its workers. */
  private static final class PendingPublish {
    final JobManager.PublishPolicy request;
    final PolicyStore.Version version;
    final Set<String> waiting;
    final long startNanos = System.nanoTime();
    int loaded;

    PendingPublish(
        JobManager.PublishPolicy request, PolicyStore.Version version, Set<String> waiting) {
      this.request = request;
      this.version = version;
      this.waiting = waiting;
    }
  }

  private final ActorContext<ToCoordinator> ctx;
  private final TimerScheduler<ToCoordinator> timers;
  private final PolicyStore policies;
  private final ServedVersions versions;
  private final WorkerRegistry workers;
  private final ShardDispatcher dispatcher;
  private final Map<String, PendingPublish> publishing = new HashMap<>();
  private final Map<String, java.util.ArrayDeque<JobManager.PublishPolicy>> publishQueue =
      new HashMap<>();

  /**
   * @param policies published policy versions; null = publishing is refused
   */
  PolicyPublisher(
      ActorContext<ToCoordinator> ctx,
      TimerScheduler<ToCoordinator> timers,
      PolicyStore policies,
      ServedVersions versions,
      WorkerRegistry workers,
      ShardDispatcher dispatcher) {
    this.ctx = ctx;
    this.timers = timers;
    this.policies = policies;
    this.versions = versions;
    this.workers = workers;
    this.dispatcher = dispatcher;
  }

  private ToWorker.LoadPolicy loadMessage(
      String model, PolicyStore.Version v, boolean partial, Set<Long> keep) {
    String[] names = v.manifest().keySet().toArray(String[]::new);
    String[] files = new String[names.length];
    for (int i = 0; i < names.length; i++) {
      files[i] = v.manifest().get(names[i]).toString();
    }
    return new ToWorker.LoadPolicy(
        model,
        v.number(),
        names,
        files,
        v.changed().toArray(String[]::new),
        partial,
        keep.stream().mapToLong(Long::longValue).toArray());
  }

  /** A (re)registered worker loads every version still served before it gets shards. */
  void syncPolicies(WorkerState w) {
    if (policies == null) {
      return;
    }
    String model = w.info.model();
    Set<Long> want = new java.util.TreeSet<>(versions.kept(model));
    PendingPublish pending = publishing.get(model);
    if (pending != null) {
      want.add(pending.version.number());
      pending.waiting.add(w.info.workerId());
    }
    want.remove(0L);
    w.syncing.clear();
    for (long n : want) {
      PolicyStore.Version v =
          n == (pending == null ? -1 : pending.version.number())
              ? pending.version
              : policies.version(model, n);
      if (v != null) {
        w.syncing.add(n);
        w.agent.tell(loadMessage(model, v, true, want));
      }
    }
  }

  /** A worker left the cluster: a publish stops waiting for it. */
  void workerLeft(WorkerState w) {
    PendingPublish pending = publishing.get(w.info.model());
    if (pending != null && pending.waiting.remove(w.info.workerId())) {
      maybeCompletePublish(w.info.model());
    }
  }

  void onPublishPolicy(JobManager.PublishPolicy m) {
    String model = m.staged().modelId();
    if (policies == null) {
      m.replyTo().tell(new JobManager.PublishOutcome(null, "this coordinator has no policy store"));
      return;
    }
    if (publishing.containsKey(model)) {
      publishQueue.computeIfAbsent(model, x -> new java.util.ArrayDeque<>()).add(m);
      return;
    }
    PolicyStore.Version v;
    try {
      v = policies.prepare(m.staged(), policies.reserveVersion(model), System.currentTimeMillis());
    } catch (RuntimeException e) {
      policies.discard(m.staged());
      m.replyTo()
          .tell(new JobManager.PublishOutcome(null, "cannot store the policy: " + e.getMessage()));
      return;
    }
    Set<Long> keep = versions.kept(model);
    keep.add(v.number());
    Set<String> targets = new HashSet<>();
    for (WorkerState w : workers.all()) {
      if (w.info.model().equals(model)) {
        targets.add(w.info.workerId());
        w.agent.tell(loadMessage(model, v, m.staged().partial(), keep));
      }
    }
    publishing.put(model, new PendingPublish(m, v, targets));
    ctx.getLog()
        .info(
            "publishing policy version {} of '{}' ({} tensors, {} bytes) to {} workers",
            v.number(),
            model,
            v.changed().size(),
            v.bytes(),
            targets.size());
    timers.startSingleTimer(
        new JobManager.PublishTimedOut(model, v.number()), JobManager.PUBLISH_TIMEOUT);
    maybeCompletePublish(model);
  }

  void onPolicyLoaded(ToCoordinator.PolicyLoaded m) {
    WorkerState w = workers.get(m.workerId());
    boolean syncing = false;
    if (w != null) {
      syncing = w.syncing.remove(m.version());
      if (m.error().isEmpty()) {
        Set<Long> loaded = new HashSet<>();
        for (long v : m.loaded()) {
          loaded.add(v);
        }
        w.loaded = loaded;
      }
    }
    PendingPublish pending = publishing.get(m.modelId());
    if (pending != null
        && pending.version.number() == m.version()
        && pending.waiting.remove(m.workerId())) {
      if (!m.error().isEmpty()) {
        failPublish(
            m.modelId(),
            "worker " + m.workerId() + " refused policy version " + m.version() + ": " + m.error());
        return;
      }
      pending.loaded++;
      maybeCompletePublish(m.modelId());
    } else if (!m.error().isEmpty() && syncing) {
      // a late joiner could not load a version the others serve: it stays without it
      ctx.getLog()
          .error(
              "worker {} could not load policy version {} of '{}': {}",
              m.workerId(),
              m.version(),
              m.modelId(),
              m.error());
    }
    dispatcher.dispatch();
  }

  private void maybeCompletePublish(String model) {
    PendingPublish p = publishing.get(model);
    if (p == null || !p.waiting.isEmpty()) {
      return;
    }
    try {
      policies.publish(model, p.version); // its manifest is written: the commit point
    } catch (RuntimeException e) {
      failPublish(model, "cannot record policy version " + p.version.number() + ": " + e);
      return;
    }
    publishing.remove(model);
    timers.cancel(new JobManager.PublishTimedOut(model, p.version.number()));
    collectOldVersions(model);
    long ms = (System.nanoTime() - p.startNanos) / 1_000_000;
    if (p.request.mode() == PublishMode.PUBLISH_MODE_ABORT) {
      for (WorkerState w : workers.all()) {
        if (w.info.model().equals(model)) {
          w.agent.tell(new ToWorker.AbortOlderVersions(model, p.version.number()));
        }
      }
    }
    ctx.getLog()
        .info(
            "policy version {} of '{}' is live on {} workers after {} ms",
            p.version.number(),
            model,
            p.loaded,
            ms);
    p.request
        .replyTo()
        .tell(
            new JobManager.PublishOutcome(
                PublishPolicyResponse.newBuilder()
                    .setModelId(model)
                    .setPolicyVersion(p.version.number())
                    .setTensors(p.version.changed().size())
                    .setBytes(p.version.bytes())
                    .setWorkers(p.loaded)
                    .setPublishMs(ms)
                    .build(),
                ""));
    startQueuedPublish(model);
    dispatcher.dispatch();
  }

  /**
   * Deletes the files of versions nothing needs any more (PolicyStore#collect): all but the newest
   * quasiroll.coordinator.policy-keep-versions, those active jobs pin and files kept ones share.
   */
  private void collectOldVersions(String model) {
    try {
      List<Long> gone = policies.collect(model, versions.kept(model));
      if (!gone.isEmpty()) {
        ctx.getLog().info("policy versions {} of '{}' collected (files deleted)", gone, model);
      }
    } catch (RuntimeException e) {
      ctx.getLog().warn("collecting old policy versions of '{}' failed: {}", model, e.toString());
    }
  }

  private void failPublish(String model, String why) {
    PendingPublish p = publishing.remove(model);
    if (p == null) {
      return;
    }
    timers.cancel(new JobManager.PublishTimedOut(model, p.version.number()));
    policies.drop(model, p.version.number());
    ctx.getLog().warn("policy version {} of '{}' refused: {}", p.version.number(), model, why);
    p.request.replyTo().tell(new JobManager.PublishOutcome(null, why));
    startQueuedPublish(model);
  }

  private void startQueuedPublish(String model) {
    var q = publishQueue.get(model);
    if (q != null && !q.isEmpty()) {
      ctx.getSelf().tell(q.poll());
    }
  }

  void onPublishTimedOut(JobManager.PublishTimedOut m) {
    PendingPublish p = publishing.get(m.modelId());
    if (p != null && p.version.number() == m.version()) {
      failPublish(
          m.modelId(),
          "workers "
              + new java.util.TreeSet<>(p.waiting)
              + " did not load policy version "
              + m.version()
              + " within "
              + JobManager.PUBLISH_TIMEOUT.toSeconds()
              + " s");
    }
  }

  void onGetPolicyStatus(JobManager.GetPolicyStatus m) {
    PolicyStatus.Builder b = PolicyStatus.newBuilder();
    if (policies != null) {
      policies
          .latestByModel()
          .forEach(
              (model, v) -> {
                if (m.modelId().isEmpty() || m.modelId().equals(model)) {
                  b.addModels(
                      ModelPolicy.newBuilder()
                          .setModelId(model)
                          .setLatestVersion(v.number())
                          .setPublishedUnixMs(v.publishedMs()));
                }
              });
    }
    for (WorkerState w : workers.all()) {
      if (m.modelId().isEmpty() || m.modelId().equals(w.info.model())) {
        var sorted = new java.util.TreeSet<>(w.loaded);
        b.addWorkers(
            WorkerPolicy.newBuilder()
                .setWorkerId(w.info.workerId())
                .setModelId(w.info.model())
                .setServingVersion(sorted.last())
                .addAllLoadedVersions(sorted));
      }
    }
    m.replyTo().tell(b.build());
  }
}
