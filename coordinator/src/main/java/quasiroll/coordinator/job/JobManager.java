package quasiroll.coordinator.job;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;
import org.apache.pekko.actor.typed.receptionist.Receptionist;
import org.slf4j.MDC;
import quasiroll.coordinator.events.JobEventLogs;
import quasiroll.v1.DataPlaneAck;
import quasiroll.v1.JobStatus;
import quasiroll.v1.Prompt;
import quasiroll.v1.SampleProgress;
import quasiroll.v1.SampleResult;
import quasiroll.cluster.wire.ToWorker.AssignShard;
import quasiroll.cluster.wire.ToWorker.CancelJobWork;
import quasiroll.cluster.ClusterKeys;
import quasiroll.cluster.wire.ToCoordinator;
import quasiroll.cluster.wire.ToCoordinator.RegisterWorker;
import quasiroll.cluster.wire.ToCoordinator.RequestWork;
import quasiroll.cluster.wire.ShardTask;
import quasiroll.cluster.wire.ToWorker.Welcome;
import quasiroll.cluster.wire.ToWorker;
import quasiroll.cluster.wire.WorkerInfo;
import quasiroll.coordinator.policy.PolicyStore;
import quasiroll.v1.ModelPolicy;
import quasiroll.v1.PolicyStatus;
import quasiroll.v1.PublishMode;
import quasiroll.v1.PublishPolicyResponse;
import quasiroll.v1.WorkerPolicy;

/**
 * The job manager (a cluster singleton on the coordinator role): accepts jobs, hands shards
 * to workers that pull them, takes in results from the data plane, and re-queues whatever a
 * lost worker had in flight.
 *
 * <p>Exactly once: results are keyed (job, prompt, index) and deduplicated by {@link Job};
 * a shard counts as done only for the indices that actually arrived, so a shard lost at any
 * point is re-run for exactly its missing indices. A worker is presumed lost when its data
 * plane stream ends (immediate on a crash: the socket closes) or when its node leaves the
 * cluster (DeathWatch after the split-brain resolver downs it).
 *
 * <p>Owns: jobs, the shard queue, the worker registry (credits, in-flight shards). Does NOT
 * own: client streams (they read the jobs' event logs directly) or any durable state —
 * everything is in memory, and a coordinator restart loses running jobs.
 */
public final class JobManager extends AbstractBehavior<ToCoordinator> {

  // ------------------------------------------------------------------ protocol

  /** Local messages (from the coordinator's own gRPC services). */
  public interface Command extends ToCoordinator.Local {}

  /** Queue a validated job; replies with its id. */
  public record Submit(ValidatedJob job, ActorRef<String> replyTo) implements Command {}

  public record Cancel(String jobId, ActorRef<Optional<JobStatus>> replyTo) implements Command {}

  public record GetStatus(String jobId, ActorRef<Optional<JobStatus>> replyTo) implements Command {}

  /** Replies with the models live workers hold: model id -> number of such workers. */
  public record LiveModels(ActorRef<Map<String, Integer>> replyTo) implements Command {}

  /** A worker's data plane stream said hello. */
  public record DataPlaneOpened(String workerId) implements Command {}

  public record SampleArrived(String workerId, String shardId, SampleResult result) implements Command {}

  /** An unfinished sample's new text (jobs that stream progress). */
  public record ProgressArrived(String shardId, SampleProgress progress) implements Command {}

  /** The worker finished a shard (error non-empty when it failed); {@code ack} answers it. */
  public record ShardFinished(
      String workerId, String shardId, int samples, String error, Consumer<DataPlaneAck> ack)
      implements Command {}

  /** A worker's data plane stream ended: its in-flight shards are presumed lost. */
  public record DataPlaneClosed(String workerId) implements Command {}

  private record WorkerTerminated(String workerId) implements Command {}

  /**
   * Publish a staged policy: it gets the model's next version, every worker serving the model
   * loads it, and only then do new groups start on it. Replies once, with the response or
   * with the refusal (naming the worker and the tensor or file), after which the old version
   * keeps serving. Publishes of one model run one at a time, in arrival order.
   */
  public record PublishPolicy(PolicyStore.Staged staged, PublishMode mode, ActorRef<PublishOutcome> replyTo)
      implements Command {}

  /** {@code response} on success, else {@code error}. */
  public record PublishOutcome(PublishPolicyResponse response, String error) {}

  public record GetPolicyStatus(String modelId, ActorRef<PolicyStatus> replyTo) implements Command {}

  private record PublishTimedOut(String modelId, long version) implements Command {}

  /** How long workers get to load a published version before the publish is refused. */
  public static final java.time.Duration PUBLISH_TIMEOUT = java.time.Duration.ofMinutes(5);

  public static Behavior<ToCoordinator> create(
      JobEventLogs logs, String dataPlaneAddress, MeterRegistry metrics) {
    return create(logs, dataPlaneAddress, metrics, null);
  }

  /** @param policies published policy versions; null = publishing is refused */
  public static Behavior<ToCoordinator> create(
      JobEventLogs logs, String dataPlaneAddress, MeterRegistry metrics, PolicyStore policies) {
    return Behaviors.setup(ctx -> Behaviors.withTimers(timers ->
        new JobManager(ctx, logs, dataPlaneAddress, metrics, policies, timers)));
  }

  // ------------------------------------------------------------------ state

  private static final class WorkerState {
    WorkerInfo info;
    ActorRef<ToWorker> agent;
    int credits;
    boolean planeOpen;
    final Set<String> inFlight = new HashSet<>();
    /** Policy versions it holds (from its last PolicyLoaded); 0 = its start-up weights. */
    Set<Long> loaded = Set.of(0L);
    /** Versions it must load before it gets shards (a worker that joined after publishes). */
    final Set<Long> syncing = new HashSet<>();
  }

  /** A publish waiting for its workers. */
  private static final class PendingPublish {
    final PublishPolicy request;
    final PolicyStore.Version version;
    final Set<String> waiting;
    final long startNanos = System.nanoTime();
    int loaded;

    PendingPublish(PublishPolicy request, PolicyStore.Version version, Set<String> waiting) {
      this.request = request;
      this.version = version;
      this.waiting = waiting;
    }
  }

  private static final class InFlight {
    final ShardScheduler.Shard shard;
    final String workerId;
    final int epoch;
    final long startNanos = System.nanoTime();
    int accepted;
    int duplicates;

    InFlight(ShardScheduler.Shard shard, String workerId, int epoch) {
      this.shard = shard;
      this.workerId = workerId;
      this.epoch = epoch;
    }
  }

  private final JobEventLogs logs;
  private final String dataPlaneAddress;
  private final Map<String, Job> jobs = new LinkedHashMap<>();
  private final Map<String, WorkerState> workers = new LinkedHashMap<>();
  private final Map<String, InFlight> inFlight = new HashMap<>();
  private final ShardScheduler scheduler = new ShardScheduler();
  private final String idPrefix = "j" + Long.toString(System.currentTimeMillis(), 36) + "-";
  private final PolicyStore policies;
  private final org.apache.pekko.actor.typed.javadsl.TimerScheduler<ToCoordinator> timers;
  private final Map<String, PendingPublish> publishing = new HashMap<>();
  private final Map<String, java.util.ArrayDeque<PublishPolicy>> publishQueue = new HashMap<>();
  private long nextJob;

  private final Counter samples;
  private final Counter tokens;
  private final Counter duplicates;
  private final Counter violations;
  private final Counter requeued;
  private final Timer shardLatency;
  private final AtomicLong queueDepth = new AtomicLong();
  private final AtomicLong liveWorkers = new AtomicLong();
  private final AtomicLong activeJobs = new AtomicLong();

  private JobManager(
      ActorContext<ToCoordinator> ctx, JobEventLogs logs, String dataPlaneAddress, MeterRegistry m,
      PolicyStore policies, org.apache.pekko.actor.typed.javadsl.TimerScheduler<ToCoordinator> timers) {
    super(ctx);
    this.policies = policies;
    this.timers = timers;
    this.logs = logs;
    this.dataPlaneAddress = dataPlaneAddress;
    this.samples = m.counter("quasiroll_coordinator_samples");
    this.tokens = m.counter("quasiroll_coordinator_tokens");
    this.duplicates = m.counter("quasiroll_coordinator_duplicates_dropped");
    this.violations = m.counter("quasiroll_coordinator_determinism_violations");
    this.requeued = m.counter("quasiroll_coordinator_requeued_shards");
    this.shardLatency = m.timer("quasiroll_coordinator_shard_latency");
    m.gauge("quasiroll_coordinator_queue_depth", queueDepth);
    m.gauge("quasiroll_coordinator_live_workers", liveWorkers);
    m.gauge("quasiroll_coordinator_active_jobs", activeJobs);
    ctx.getSystem().receptionist().tell(Receptionist.register(ClusterKeys.JOB_MANAGER, ctx.getSelf()));
  }

  @Override
  public Receive<ToCoordinator> createReceive() {
    return newReceiveBuilder()
        .onMessage(Submit.class, this::onSubmit)
        .onMessage(Cancel.class, this::onCancel)
        .onMessage(GetStatus.class, this::onGetStatus)
        .onMessage(LiveModels.class, this::onLiveModels)
        .onMessage(RegisterWorker.class, this::onRegisterWorker)
        .onMessage(RequestWork.class, this::onRequestWork)
        .onMessage(DataPlaneOpened.class, this::onDataPlaneOpened)
        .onMessage(SampleArrived.class, this::onSampleArrived)
        .onMessage(ProgressArrived.class, this::onProgressArrived)
        .onMessage(ShardFinished.class, this::onShardFinished)
        .onMessage(DataPlaneClosed.class, this::onDataPlaneClosed)
        .onMessage(WorkerTerminated.class, this::onWorkerTerminated)
        .onMessage(PublishPolicy.class, this::onPublishPolicy)
        .onMessage(ToCoordinator.PolicyLoaded.class, this::onPolicyLoaded)
        .onMessage(PublishTimedOut.class, this::onPublishTimedOut)
        .onMessage(GetPolicyStatus.class, this::onGetPolicyStatus)
        .build();
  }

  // ------------------------------------------------------------------ clients

  private Behavior<ToCoordinator> onSubmit(Submit m) {
    String id = idPrefix + (nextJob++);
    Job job = new Job(id, m.job(), logs.create(id), System.currentTimeMillis());
    jobs.put(id, job);
    var spec = m.job().spec();
    if (spec.hasPolicyVersion() && spec.getPolicyVersion() > 0
        && (policies == null || policies.version(spec.getModel(), spec.getPolicyVersion()) == null
            || !keptVersions(spec.getModel()).contains(spec.getPolicyVersion()))) {
      job.fail("policy_version " + spec.getPolicyVersion() + " of model '" + spec.getModel()
          + "' is not being served (served versions: " + new java.util.TreeSet<>(keptVersions(spec.getModel()))
          + "; the newest is " + latest(spec.getModel()) + ")", System.currentTimeMillis());
      m.replyTo().tell(id);
      return this;
    }
    if (spec.getZeroVariance() == quasiroll.v1.ZeroVarianceMode.ZERO_VARIANCE_GROW) {
      try {
        var kind = quasiroll.common.sampler.CouplingKind.parse(spec.getSampler().getKind().isEmpty() ? "iid" : spec.getSampler().getKind());
        if (!quasiroll.common.coupling.CouplingNoiseFactory.EXTENSIBLE.contains(kind)
            || (kind == quasiroll.common.sampler.CouplingKind.ANTITHETIC && spec.getK() % 2 != 0)
            || Job.firstIndex(m.job()) != 0 || Job.indexCount(m.job()) != spec.getK()) {
          throw new quasiroll.common.error.BadInputException("zero_variance GROW needs a sampler whose groups can grow"
              + " keeping their samples: one of " + quasiroll.common.coupling.CouplingNoiseFactory.EXTENSIBLE.stream()
                  .map(quasiroll.common.sampler.CouplingKind::shortName).sorted().toList()
              + " (antithetic with an even k), not '" + kind.shortName() + "' (docs/rl.md says why),"
              + " and the whole group (no index_offset / index_count)");
        }
      } catch (RuntimeException e) {
        job.fail(e.getMessage(), System.currentTimeMillis());
        m.replyTo().tell(id);
        return this;
      }
    }
    scheduler.addJob(id, m.job().spec().getModel(), job.initialPrompts(), Job.firstIndex(m.job()), Job.indexCount(m.job()));
    getContext().getLog().info("job {} queued: {} prompts x k={} on model '{}'",
        id, job.promptCount(), m.job().spec().getK(), m.job().spec().getModel());
    m.replyTo().tell(id);
    dispatch();
    return this;
  }

  private Behavior<ToCoordinator> onCancel(Cancel m) {
    Job job = jobs.get(m.jobId());
    if (job == null) {
      m.replyTo().tell(Optional.empty());
      return this;
    }
    if (job.active()) {
      job.cancel(System.currentTimeMillis());
      scheduler.removeJob(job.id);
      Set<ActorRef<ToWorker>> busy = new HashSet<>();
      for (InFlight f : inFlight.values()) {
        if (f.shard.jobId().equals(job.id) && workers.containsKey(f.workerId)) {
          busy.add(workers.get(f.workerId).agent);
        }
      }
      busy.forEach(a -> a.tell(new CancelJobWork(job.id)));
      getContext().getLog().info("job {} cancelled; {} workers told to stop", job.id, busy.size());
      updateGauges();
    }
    m.replyTo().tell(Optional.of(job.status()));
    return this;
  }

  private Behavior<ToCoordinator> onGetStatus(GetStatus m) {
    Job job = jobs.get(m.jobId());
    m.replyTo().tell(job == null ? Optional.empty() : Optional.of(job.status()));
    return this;
  }

  private Behavior<ToCoordinator> onLiveModels(LiveModels m) {
    Map<String, Integer> models = new java.util.TreeMap<>();
    for (WorkerState w : workers.values()) {
      models.merge(w.info.model(), 1, Integer::sum);
    }
    m.replyTo().tell(models);
    return this;
  }

  // ------------------------------------------------------------------ workers

  private Behavior<ToCoordinator> onRegisterWorker(RegisterWorker m) {
    String id = m.info().workerId();
    WorkerState w = workers.get(id);
    if (w == null) {
      w = new WorkerState();
      workers.put(id, w);
      getContext().watchWith(m.agent(), new WorkerTerminated(id));
      getContext().getLog().info("worker {} joined: model '{}' on {}, capacity {}",
          id, m.info().model(), m.info().device(), m.info().capacity());
    }
    w.info = m.info();
    w.agent = m.agent();
    w.credits = 0;
    m.agent().tell(new Welcome(dataPlaneAddress));
    syncPolicies(w);
    updateGauges();
    return this;
  }

  private Behavior<ToCoordinator> onRequestWork(RequestWork m) {
    WorkerState w = workers.get(m.workerId());
    if (w != null) {
      w.credits += m.credits();
      dispatch();
    }
    return this;
  }

  private Behavior<ToCoordinator> onDataPlaneOpened(DataPlaneOpened m) {
    WorkerState w = workers.get(m.workerId());
    if (w != null) {
      w.planeOpen = true;
      dispatch();
    }
    return this;
  }

  private Behavior<ToCoordinator> onDataPlaneClosed(DataPlaneClosed m) {
    WorkerState w = workers.get(m.workerId());
    if (w != null) {
      w.planeOpen = false;
      requeueAll(w, "its data plane stream ended");
      dispatch();
    }
    return this;
  }

  private Behavior<ToCoordinator> onWorkerTerminated(WorkerTerminated m) {
    WorkerState w = workers.remove(m.workerId());
    if (w != null) {
      PendingPublish pending = publishing.get(w.info.model());
      if (pending != null && pending.waiting.remove(m.workerId())) {
        maybeCompletePublish(w.info.model());
      }
      requeueAll(w, "its node left the cluster");
      getContext().getLog().warn("worker {} left the cluster", m.workerId());
      updateGauges();
      dispatch();
    }
    return this;
  }

  private void requeueAll(WorkerState w, String why) {
    for (String shardId : w.inFlight) {
      InFlight f = inFlight.remove(shardId);
      if (f != null) {
        requeueMissing(f, why);
      }
    }
    w.inFlight.clear();
  }

  private void requeueMissing(InFlight f, String why) {
    Job job = jobs.get(f.shard.jobId());
    if (job == null || !job.active()) {
      return;
    }
    if (f.epoch != job.epoch(f.shard.promptIndex())) {
      return; // the group was regenerated: all its indices were queued again then
    }
    int[] missing = job.missing(f.shard.promptIndex(), f.shard.indices());
    if (missing.length > 0) {
      scheduler.requeue(job.id, f.shard.promptIndex(), missing);
      job.countRequeued();
      requeued.increment();
      MDC.put("job", job.id);
      MDC.put("shard", f.shard.shardId());
      getContext().getLog().warn("re-queued {} of {} samples of shard {} from worker {}: {}",
          missing.length, f.shard.indices().length, f.shard.shardId(), f.workerId, why);
      MDC.remove("job");
      MDC.remove("shard");
    }
  }

  // ------------------------------------------------------------------ data plane

  private Behavior<ToCoordinator> onSampleArrived(SampleArrived m) {
    InFlight f = inFlight.get(m.shardId());
    Job job = jobs.get(f != null ? f.shard.jobId() : jobIdOf(m.shardId()));
    if (job == null) {
      return this;
    }
    Job.Outcome outcome = job.accept(m.result(), System.currentTimeMillis(), latest(job.def.spec().getModel()));
    switch (outcome) {
      case GROW -> {
        samples.increment();
        if (f != null) {
          f.accepted++;
        }
        int p = job.promptIndexOf(m.result().getPromptId());
        int size = job.groupSize(p);
        int[] more = new int[size / 2];
        java.util.Arrays.setAll(more, i -> size / 2 + i);
        scheduler.requeue(job.id, p, more);
        getContext().getLog().info("job {} prompt '{}': all rewards equal, grown to {} samples", job.id,
            m.result().getPromptId(), size);
        dispatch();
      }
      case DROP -> {
        samples.increment();
        if (f != null) {
          f.accepted++;
        }
        int next = job.nextReservePrompt();
        if (next >= 0) {
          int first = Job.firstIndex(job.def);
          int[] all = new int[Job.indexCount(job.def)];
          java.util.Arrays.setAll(all, i -> first + i);
          scheduler.requeue(job.id, next, all);
          dispatch();
        }
        if (!job.active()) {
          scheduler.removeJob(job.id);
          updateGauges();
        }
      }
      case REGENERATE -> {
        int p = job.promptIndexOf(m.result().getPromptId());
        long to = latest(job.def.spec().getModel());
        scheduler.requeue(job.id, p, job.regenerate(p, to));
        getContext().getLog().info("job {} prompt '{}' regenerated on policy version {} ({})", job.id,
            m.result().getPromptId(), to, m.result().getFinishReason() == quasiroll.v1.FinishReason.FINISH_REASON_ABORTED
                ? "a publish in abort mode cut it short" : "it fell more than max_staleness behind");
        dispatch();
      }
      case ACCEPTED -> {
        samples.increment();
        tokens.increment(m.result().getTokenIdsCount());
        if (f != null) {
          f.accepted++;
        }
        if (!job.active()) {
          scheduler.removeJob(job.id);
          getContext().getLog().info("job {} {}", job.id, job.state());
          updateGauges();
        }
      }
      case DUPLICATE, VIOLATION -> {
        duplicates.increment();
        if (outcome == Job.Outcome.VIOLATION) {
          violations.increment();
        }
        if (f != null) {
          f.duplicates++;
        }
      }
      default -> {}
    }
    return this;
  }

  private Behavior<ToCoordinator> onProgressArrived(ProgressArrived m) {
    Job job = jobs.get(jobIdOf(m.shardId()));
    if (job != null) {
      job.progress(m.progress());
    }
    return this;
  }

  private Behavior<ToCoordinator> onShardFinished(ShardFinished m) {
    InFlight f = inFlight.remove(m.shardId());
    DataPlaneAck.Builder ack = DataPlaneAck.newBuilder().setShardId(m.shardId());
    if (f != null) {
      ack.setAccepted(f.accepted).setDuplicates(f.duplicates);
      WorkerState w = workers.get(f.workerId);
      if (w != null) {
        w.inFlight.remove(m.shardId());
      }
      shardLatency.record(System.nanoTime() - f.startNanos, TimeUnit.NANOSECONDS);
      requeueMissing(f, m.error().isEmpty() ? "the worker finished it without them" : "it failed: " + m.error());
      dispatch();
    }
    m.ack().accept(ack.build());
    return this;
  }

  private static String jobIdOf(String shardId) {
    int slash = shardId.lastIndexOf('/');
    return slash < 0 ? shardId : shardId.substring(0, slash);
  }

  // ------------------------------------------------------------------ policies

  private long latest(String model) {
    return policies == null ? 0 : policies.latest(model);
  }

  /** Versions of a model that workers must keep: the newest and those pinned by running groups. */
  private Set<Long> keptVersions(String model) {
    Set<Long> keep = new HashSet<>();
    keep.add(latest(model));
    for (Job j : jobs.values()) {
      if (j.active() && j.def.spec().getModel().equals(model)) {
        keep.addAll(j.pinnedVersions());
      }
    }
    return keep;
  }

  private ToWorker.LoadPolicy loadMessage(String model, PolicyStore.Version v, boolean partial, Set<Long> keep) {
    String[] names = v.manifest().keySet().toArray(String[]::new);
    String[] files = new String[names.length];
    for (int i = 0; i < names.length; i++) {
      files[i] = v.manifest().get(names[i]).toString();
    }
    return new ToWorker.LoadPolicy(model, v.number(), names, files, v.changed().toArray(String[]::new), partial,
        keep.stream().mapToLong(Long::longValue).toArray());
  }

  /** A (re)registered worker loads every version still served before it gets shards. */
  private void syncPolicies(WorkerState w) {
    if (policies == null) {
      return;
    }
    String model = w.info.model();
    Set<Long> want = new java.util.TreeSet<>(keptVersions(model));
    PendingPublish pending = publishing.get(model);
    if (pending != null) {
      want.add(pending.version.number());
      pending.waiting.add(w.info.workerId());
    }
    want.remove(0L);
    w.syncing.clear();
    for (long n : want) {
      PolicyStore.Version v = n == (pending == null ? -1 : pending.version.number()) ? pending.version
          : policies.version(model, n);
      if (v != null) {
        w.syncing.add(n);
        w.agent.tell(loadMessage(model, v, true, want));
      }
    }
  }

  private Behavior<ToCoordinator> onPublishPolicy(PublishPolicy m) {
    String model = m.staged().modelId();
    if (policies == null) {
      m.replyTo().tell(new PublishOutcome(null, "this coordinator has no policy store"));
      return this;
    }
    if (publishing.containsKey(model)) {
      publishQueue.computeIfAbsent(model, x -> new java.util.ArrayDeque<>()).add(m);
      return this;
    }
    PolicyStore.Version v;
    try {
      v = policies.prepare(m.staged(), policies.reserveVersion(model), System.currentTimeMillis());
    } catch (RuntimeException e) {
      policies.discard(m.staged());
      m.replyTo().tell(new PublishOutcome(null, "cannot store the policy: " + e.getMessage()));
      return this;
    }
    Set<Long> keep = keptVersions(model);
    keep.add(v.number());
    Set<String> targets = new HashSet<>();
    for (WorkerState w : workers.values()) {
      if (w.info.model().equals(model)) {
        targets.add(w.info.workerId());
        w.agent.tell(loadMessage(model, v, m.staged().partial(), keep));
      }
    }
    publishing.put(model, new PendingPublish(m, v, targets));
    getContext().getLog().info("publishing policy version {} of '{}' ({} tensors, {} bytes) to {} workers",
        v.number(), model, v.changed().size(), v.bytes(), targets.size());
    timers.startSingleTimer(new PublishTimedOut(model, v.number()), PUBLISH_TIMEOUT);
    maybeCompletePublish(model);
    return this;
  }

  private Behavior<ToCoordinator> onPolicyLoaded(ToCoordinator.PolicyLoaded m) {
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
    if (pending != null && pending.version.number() == m.version() && pending.waiting.remove(m.workerId())) {
      if (!m.error().isEmpty()) {
        failPublish(m.modelId(), "worker " + m.workerId() + " refused policy version " + m.version() + ": " + m.error());
        return this;
      }
      pending.loaded++;
      maybeCompletePublish(m.modelId());
    } else if (!m.error().isEmpty() && syncing) {
      // a late joiner could not load a version the others serve: it stays without it
      getContext().getLog().error("worker {} could not load policy version {} of '{}': {}", m.workerId(),
          m.version(), m.modelId(), m.error());
    }
    dispatch();
    return this;
  }

  private void maybeCompletePublish(String model) {
    PendingPublish p = publishing.get(model);
    if (p == null || !p.waiting.isEmpty()) {
      return;
    }
    publishing.remove(model);
    timers.cancel(new PublishTimedOut(model, p.version.number()));
    policies.publish(model, p.version);
    long ms = (System.nanoTime() - p.startNanos) / 1_000_000;
    if (p.request.mode() == PublishMode.PUBLISH_MODE_ABORT) {
      for (WorkerState w : workers.values()) {
        if (w.info.model().equals(model)) {
          w.agent.tell(new ToWorker.AbortOlderVersions(model, p.version.number()));
        }
      }
    }
    getContext().getLog().info("policy version {} of '{}' is live on {} workers after {} ms", p.version.number(),
        model, p.loaded, ms);
    p.request.replyTo().tell(new PublishOutcome(PublishPolicyResponse.newBuilder()
        .setModelId(model)
        .setPolicyVersion(p.version.number())
        .setTensors(p.version.changed().size())
        .setBytes(p.version.bytes())
        .setWorkers(p.loaded)
        .setPublishMs(ms)
        .build(), ""));
    startQueuedPublish(model);
    dispatch();
  }

  private void failPublish(String model, String why) {
    PendingPublish p = publishing.remove(model);
    if (p == null) {
      return;
    }
    timers.cancel(new PublishTimedOut(model, p.version.number()));
    policies.drop(model, p.version.number());
    getContext().getLog().warn("policy version {} of '{}' refused: {}", p.version.number(), model, why);
    p.request.replyTo().tell(new PublishOutcome(null, why));
    startQueuedPublish(model);
  }

  private void startQueuedPublish(String model) {
    var q = publishQueue.get(model);
    if (q != null && !q.isEmpty()) {
      getContext().getSelf().tell(q.poll());
    }
  }

  private Behavior<ToCoordinator> onPublishTimedOut(PublishTimedOut m) {
    PendingPublish p = publishing.get(m.modelId());
    if (p != null && p.version.number() == m.version()) {
      failPublish(m.modelId(), "workers " + new java.util.TreeSet<>(p.waiting) + " did not load policy version "
          + m.version() + " within " + PUBLISH_TIMEOUT.toSeconds() + " s");
    }
    return this;
  }

  private Behavior<ToCoordinator> onGetPolicyStatus(GetPolicyStatus m) {
    PolicyStatus.Builder b = PolicyStatus.newBuilder();
    if (policies != null) {
      policies.latestByModel().forEach((model, v) -> {
        if (m.modelId().isEmpty() || m.modelId().equals(model)) {
          b.addModels(ModelPolicy.newBuilder().setModelId(model).setLatestVersion(v.number())
              .setPublishedUnixMs(v.publishedMs()));
        }
      });
    }
    for (WorkerState w : workers.values()) {
      if (m.modelId().isEmpty() || m.modelId().equals(w.info.model())) {
        var sorted = new java.util.TreeSet<>(w.loaded);
        b.addWorkers(WorkerPolicy.newBuilder().setWorkerId(w.info.workerId()).setModelId(w.info.model())
            .setServingVersion(sorted.last()).addAllLoadedVersions(sorted));
      }
    }
    m.replyTo().tell(b.build());
    return this;
  }

  // ------------------------------------------------------------------ scheduling

  /** Hands queued shards to workers with credits and an open data plane. */
  private void dispatch() {
    for (WorkerState w : workers.values()) {
      if (!w.planeOpen || !w.syncing.isEmpty()) {
        continue;
      }
      while (w.credits > 0) {
        ShardScheduler.Shard s = scheduler.next(w.info.model(), w.info.capacity());
        if (s == null) {
          break;
        }
        assign(w, s);
      }
    }
    updateWaitingReasons();
    updateGauges();
  }

  private void assign(WorkerState w, ShardScheduler.Shard s) {
    Job job = jobs.get(s.jobId());
    Prompt p = job.prompt(s.promptIndex());
    var spec = job.def.spec();
    long version = job.pin(s.promptIndex(), latest(spec.getModel()));
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
                ? spec.getSampler().toBuilder().putOptions(quasiroll.common.noise.ExtensibleOrder.OPTION,
                    Integer.toString(job.growCap())).build()
                : spec.getSampler(),
            spec.getDecode(),
            spec.getSeed(),
            version);
    w.agent.tell(new AssignShard(task));
    w.credits--;
    w.inFlight.add(s.shardId());
    inFlight.put(s.shardId(), new InFlight(s, w.info.workerId(), job.epoch(s.promptIndex())));
    job.markRunning();
  }

  private void updateWaitingReasons() {
    Set<String> models = new HashSet<>();
    for (WorkerState w : workers.values()) {
      models.add(w.info.model());
    }
    for (String id : scheduler.jobsWithWork()) {
      String model = scheduler.model(id);
      jobs.get(id).setWaitingReason(models.contains(model) ? "" : "no live worker holds model '" + model + "'");
    }
  }

  private void updateGauges() {
    queueDepth.set(scheduler.queueDepth());
    liveWorkers.set(workers.size());
    activeJobs.set(jobs.values().stream().filter(Job::active).count());
  }
}
