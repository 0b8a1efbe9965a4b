package quasiroll.coordinator.job;

import com.typesafe.config.Config;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.time.Duration;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.PostStop;
import org.apache.pekko.actor.typed.SupervisorStrategy;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;
import org.apache.pekko.actor.typed.receptionist.Receptionist;
import org.slf4j.MDC;
import quasiroll.cluster.ClusterKeys;
import quasiroll.cluster.wire.ShardTask;
import quasiroll.cluster.wire.ToCoordinator;
import quasiroll.cluster.wire.ToCoordinator.RegisterWorker;
import quasiroll.cluster.wire.ToCoordinator.RequestWork;
import quasiroll.cluster.wire.ToWorker;
import quasiroll.cluster.wire.ToWorker.AssignShard;
import quasiroll.cluster.wire.ToWorker.CancelJobWork;
import quasiroll.cluster.wire.ToWorker.Welcome;
import quasiroll.cluster.wire.WorkerInfo;
import quasiroll.common.task.Verifier;
import quasiroll.coordinator.events.JobEventLog;
import quasiroll.coordinator.events.JobEventLogs;
import quasiroll.coordinator.policy.PolicyStore;
import quasiroll.coordinator.sink.JsonlSink;
import quasiroll.coordinator.store.JobStore;
import quasiroll.v1.DataPlaneAck;
import quasiroll.v1.JobSpec;
import quasiroll.v1.JobState;
import quasiroll.v1.JobStatus;
import quasiroll.v1.ModelPolicy;
import quasiroll.v1.PolicyStatus;
import quasiroll.v1.Prompt;
import quasiroll.v1.PublishMode;
import quasiroll.v1.PublishPolicyResponse;
import quasiroll.v1.SampleProgress;
import quasiroll.v1.SampleResult;
import quasiroll.v1.WorkerPolicy;

/**
 * The job manager (a cluster singleton on the coordinator role): accepts jobs, hands shards to
 * workers that pull them, takes in results from the data plane, and re-queues whatever a lost
 * worker had in flight.
 *
 * <p>Exactly once: results are keyed (job, prompt, index) and deduplicated by {@link Job}; a shard
 * counts as done only for the indices that actually arrived, so a shard lost at any point is re-run
 * for exactly its missing indices. A worker is presumed lost when its data plane stream ends
 * (immediate on a crash: the socket closes) or when its node leaves the cluster (DeathWatch after
 * the split-brain resolver downs it).
 *
 * <p>Failures: a shard whose worker reports an error is retried after an exponential back-off; a
 * permanent error (bad input) fails the job after a few attempts, any other after a few more
 * ({@link Settings}). A failed sink write or reward fails only its job. Verifiers run on a {@link
 * VerifierPool}, never on this actor. Results are accepted only from the worker a shard is assigned
 * to, for that shard's keys.
 *
 * <p>Durability (with a {@link JobStore}): a job's spec is committed before its id is returned,
 * samples are committed in batches (at most {@link #FLUSH_INTERVAL} apart) and always before the
 * shard they belong to is acknowledged, and events reach client streams only once committed. On
 * start every unfinished job is resumed from the store and only never-stored samples are computed
 * again.
 *
 * <p>Owns: jobs, the shard queue, the worker registry (credits, in-flight shards). Does NOT own:
 * client streams (they read the jobs' event logs directly).
 */
public final class JobManager extends AbstractBehavior<ToCoordinator> {

  // ------------------------------------------------------------------ protocol

  /** Local messages (from the coordinator's own gRPC services). */
  public interface Command extends ToCoordinator.Local {}

  /** Queue a validated job; replies with its id, or why it was refused. */
  public record Submit(ValidatedJob job, String owner, ActorRef<Submitted> replyTo)
      implements Command {
    public Submit(ValidatedJob job, ActorRef<Submitted> replyTo) {
      this(job, "local", replyTo);
    }
  }

  /** The answer to {@link Submit}: {@code jobId}, or a non-null {@code refusal}. */
  public record Submitted(String jobId, String refusal) {}

  public record Cancel(String jobId, ActorRef<Optional<JobStatus>> replyTo) implements Command {}

  public record GetStatus(String jobId, ActorRef<Optional<JobStatus>> replyTo) implements Command {}

  /** Replies with the models live workers hold: model id -> number of such workers. */
  public record LiveModels(ActorRef<Map<String, Integer>> replyTo) implements Command {}

  /** A worker's data plane stream said hello. */
  public record DataPlaneOpened(String workerId) implements Command {}

  public record SampleArrived(String workerId, String shardId, SampleResult result)
      implements Command {}

  /** An unfinished sample's new text (jobs that stream progress). */
  public record ProgressArrived(String shardId, SampleProgress progress) implements Command {}

  /**
   * The worker finished a shard (error non-empty when it failed; {@code permanent} when the failure
   * would repeat anywhere); {@code ack} answers it.
   */
  /**
   * Several results of one shard in one message (a worker's {@code ResultBatch}); when {@code
   * finished} is non-null the shard ended after them, exactly as a following {@link ShardFinished}
   * would say.
   */
  public record ResultsArrived(
      String workerId, String shardId, java.util.List<SampleResult> results, ShardFinished finished)
      implements Command {}

  public record ShardFinished(
      String workerId,
      String shardId,
      int samples,
      String error,
      boolean permanent,
      Consumer<DataPlaneAck> ack)
      implements Command {}

  /** A worker's data plane stream ended: its in-flight shards are presumed lost. */
  public record DataPlaneClosed(String workerId) implements Command {}

  private record WorkerTerminated(String workerId) implements Command {}

  /**
   * Publish a staged policy: it gets the model's next version, every worker serving the model loads
   * it, and only then do new groups start on it. Replies once, with the response or with the
   * refusal (naming the worker and the tensor or file), after which the old version keeps serving.
   * Publishes of one model run one at a time, in arrival order.
   */
  public record PublishPolicy(
      PolicyStore.Staged staged, PublishMode mode, ActorRef<PublishOutcome> replyTo)
      implements Command {}

  /** {@code response} on success, else {@code error}. */
  public record PublishOutcome(PublishPolicyResponse response, String error) {}

  public record GetPolicyStatus(String modelId, ActorRef<PolicyStatus> replyTo)
      implements Command {}

  private record PublishTimedOut(String modelId, long version) implements Command {}

  /** How long workers get to load a published version before the publish is refused. */
  public static final java.time.Duration PUBLISH_TIMEOUT = java.time.Duration.ofMinutes(5);

  /** A failed shard's back-off is over: its missing indices go back into the queue. */
  private record RetryDue(String jobId, int promptIndex, int[] indices, int attempt)
      implements Command {}

  /** Time to commit what is staged in the job store (samples arrive faster than fsyncs). */
  private record FlushTick() implements Command {}

  /** A verifier finished (on a verifier thread) with an admitted sample's reward. */
  private record Scored(
      String jobId, SampleResult result, VerifierPool.Outcome reward, boolean reportOnly)
      implements Command {}

  /**
   * How failures are retried and rewards computed ({@code quasiroll.coordinator.retry.*}, {@code
   * quasiroll.verifiers.*}).
   *
   * @param permanentAttempts runs of a shard's indices that may fail with a permanent error (bad
   *     input) before the job fails with the worker's message
   * @param transientAttempts runs that may fail for any other reason (a worker error, a worker lost
   *     with the shard) before the job fails
   * @param backoffBase wait before the first retry of a failed shard; doubled per attempt
   * @param backoffMax longest wait between retries
   * @param verifierThreads verifier calls running at once
   * @param verifierTimeout longest one verifier call may take; past it the group's reward is an
   *     error and the job fails
   */
  public record Settings(
      int permanentAttempts,
      int transientAttempts,
      Duration backoffBase,
      Duration backoffMax,
      int verifierThreads,
      Duration verifierTimeout) {
    public static final Settings DEFAULTS =
        new Settings(
            3, 8, Duration.ofMillis(500), Duration.ofSeconds(30), 4, Duration.ofSeconds(30));

    public static Settings from(Config c) {
      return new Settings(
          c.getInt("quasiroll.coordinator.retry.permanent-attempts"),
          c.getInt("quasiroll.coordinator.retry.transient-attempts"),
          c.getDuration("quasiroll.coordinator.retry.backoff-base"),
          c.getDuration("quasiroll.coordinator.retry.backoff-max"),
          c.getInt("quasiroll.verifiers.threads"),
          c.getDuration("quasiroll.verifiers.timeout"));
    }

    /** The wait before retry number {@code attempt} (1-based): base * 2^(attempt-1), capped. */
    Duration backoff(int attempt) {
      long ms = backoffBase.toMillis() << Math.min(20, Math.max(0, attempt - 1));
      return Duration.ofMillis(Math.min(ms, backoffMax.toMillis()));
    }
  }

  public static Behavior<ToCoordinator> create(
      JobEventLogs logs, String dataPlaneAddress, MeterRegistry metrics) {
    return create(logs, dataPlaneAddress, metrics, Settings.DEFAULTS);
  }

  /**
   * The job manager, supervised to resume after an unexpected exception: one bad message must never
   * stop the manager of every job (per-job failures are handled inside and fail only that job).
   */
  public static Behavior<ToCoordinator> create(
      JobEventLogs logs, String dataPlaneAddress, MeterRegistry metrics, Settings settings) {
    return create(logs, dataPlaneAddress, metrics, settings, null);
  }

  /**
   * @param validator re-validates stored specs when {@code logs} has a job store: every unfinished
   *     job in it is resumed on start
   */
  public static Behavior<ToCoordinator> create(
      JobEventLogs logs,
      String dataPlaneAddress,
      MeterRegistry metrics,
      Settings settings,
      JobSpecValidator validator) {
    return create(logs, dataPlaneAddress, metrics, settings, validator, null);
  }

  /**
   * @param policies published policy versions; null = publishing is refused
   */
  public static Behavior<ToCoordinator> create(
      JobEventLogs logs, String dataPlaneAddress, MeterRegistry metrics, PolicyStore policies) {
    return create(logs, dataPlaneAddress, metrics, Settings.DEFAULTS, null, policies);
  }

  /**
   * @param policies published policy versions; null = publishing is refused
   */
  public static Behavior<ToCoordinator> create(
      JobEventLogs logs,
      String dataPlaneAddress,
      MeterRegistry metrics,
      Settings settings,
      JobSpecValidator validator,
      PolicyStore policies) {
    return Behaviors.supervise(
            Behaviors.<ToCoordinator>setup(
                ctx ->
                    Behaviors.withTimers(
                        timers ->
                            new JobManager(
                                ctx,
                                logs,
                                dataPlaneAddress,
                                metrics,
                                settings,
                                validator,
                                policies,
                                timers))))
        .onFailure(Exception.class, SupervisorStrategy.resume());
  }

  /** How long staged samples may wait for their commit (and client streams for them). */
  static final Duration FLUSH_INTERVAL = Duration.ofMillis(50);

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

    /** Whether {@code r} is one of this shard's samples (its prompt, one of its indices). */
    boolean covers(Job job, SampleResult r) {
      if (!job.prompt(shard.promptIndex()).getId().equals(r.getPromptId())) {
        return false;
      }
      for (int i : shard.indices()) {
        if (i == r.getIndex()) {
          return true;
        }
      }
      return false;
    }
  }

  private final JobEventLogs logs;
  private final String dataPlaneAddress;
  private final Map<String, Job> jobs = new LinkedHashMap<>();

  /**
   * The jobs not yet known to be final, so that the gauges cost O(active jobs) per message, not
   * O(every job since the start): with one job per HTTP request the full scan was the coordinator's
   * hottest method and grew without bound. Finished jobs are pruned lazily.
   */
  private final Set<Job> activeSet = new LinkedHashSet<>();

  private final Map<String, WorkerState> workers = new LinkedHashMap<>();
  private final Map<String, InFlight> inFlight = new HashMap<>();
  private final ShardScheduler scheduler = new ShardScheduler();

  /** Smallest vocabulary reported per model (workers of one model should agree). */
  private final Map<String, Integer> vocabByModel = new HashMap<>();

  private final Settings settings;
  private final VerifierPool verifierPool;
  private final JobStore store;
  private boolean flushScheduled;
  private final PolicyStore policies;
  private final org.apache.pekko.actor.typed.javadsl.TimerScheduler<ToCoordinator> timers;
  private final Map<String, PendingPublish> publishing = new HashMap<>();
  private final Map<String, java.util.ArrayDeque<PublishPolicy>> publishQueue = new HashMap<>();

  private final Counter samples;
  private final Counter tokens;
  private final Counter duplicates;
  private final Counter violations;
  private final Counter requeued;
  private final Counter refusedResults;
  private final Counter failedShards;
  private final Timer shardLatency;
  private final AtomicLong queueDepth = new AtomicLong();
  private final AtomicLong liveWorkers = new AtomicLong();
  private final AtomicLong activeJobs = new AtomicLong();

  private JobManager(
      ActorContext<ToCoordinator> ctx,
      JobEventLogs logs,
      String dataPlaneAddress,
      MeterRegistry m,
      Settings settings,
      JobSpecValidator validator,
      PolicyStore policies,
      org.apache.pekko.actor.typed.javadsl.TimerScheduler<ToCoordinator> timers) {
    super(ctx);
    this.policies = policies;
    this.timers = timers;
    this.store = logs.store();
    this.logs = logs;
    this.dataPlaneAddress = dataPlaneAddress;
    this.settings = settings;
    this.verifierPool = new VerifierPool(settings.verifierThreads(), settings.verifierTimeout());
    this.refusedResults = m.counter("quasiroll_coordinator_refused_results");
    this.failedShards = m.counter("quasiroll_coordinator_failed_shards");
    this.samples = m.counter("quasiroll_coordinator_samples");
    this.tokens = m.counter("quasiroll_coordinator_tokens");
    this.duplicates = m.counter("quasiroll_coordinator_duplicates_dropped");
    this.violations = m.counter("quasiroll_coordinator_determinism_violations");
    this.requeued = m.counter("quasiroll_coordinator_requeued_shards");
    this.shardLatency = m.timer("quasiroll_coordinator_shard_latency");
    m.gauge("quasiroll_coordinator_queue_depth", queueDepth);
    m.gauge("quasiroll_coordinator_live_workers", liveWorkers);
    m.gauge("quasiroll_coordinator_active_jobs", activeJobs);
    ctx.getSystem()
        .receptionist()
        .tell(Receptionist.register(ClusterKeys.JOB_MANAGER, ctx.getSelf()));
    if (store != null) {
      resume(validator);
    }
  }

  // ------------------------------------------------------------------ durability

  /**
   * Rebuilds every unfinished job in the store and queues exactly its samples that were never
   * stored. A job that cannot be rebuilt (its prompts file or verifier no longer validates, its
   * sink was changed) is failed, durably, with the reason.
   */
  private void resume(JobSpecValidator validator) {
    long now = System.currentTimeMillis();
    for (JobStore.StoredJob sj : store.jobs(true)) {
      List<quasiroll.v1.JobEvent> events = store.events(sj.id());
      JobEventLog log = logs.restore(sj.id(), sj.owner(), events);
      try {
        ValidatedJob def = validator.validate(sj.spec(), true);
        JsonlSink sink =
            def.jsonlPath() == null ? null : JsonlSink.resume(def.jsonlPath(), sj.sinkOffset());
        Job job = Job.resume(sj.id(), def, log, sink, store.groups(sj.id()), sj.submittedMs(), now);
        jobs.put(job.id, job);
        activeSet.add(job);
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
        getContext()
            .getLog()
            .info(
                "resumed job {}: {} samples stored, {} to compute",
                job.id,
                job.status().getSamplesDone(),
                toRun);
      } catch (RuntimeException e) {
        String why = "cannot resume after a coordinator restart: " + e.getMessage();
        getContext().getLog().error("job {} {}", sj.id(), why);
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
    updateGauges();
  }

  /**
   * Commits what is staged and publishes it to client streams. A store that cannot commit (disk
   * full, I/O error) stops the coordinator: it cannot promise durability any more, and a restart
   * resumes from the last commit with nothing lost.
   */
  private void commit() {
    try {
      logs.commit();
    } catch (JobStore.StoreException e) {
      getContext()
          .getLog()
          .error(
              "the job store failed; stopping the coordinator (a restart resumes every job"
                  + " from the last commit): {}",
              e.getMessage());
      getContext().getSystem().terminate();
      throw e;
    }
  }

  /** Commits soon (within FLUSH_INTERVAL) when something is staged. */
  private void commitSoon() {
    if (store != null && !flushScheduled && store.dirty()) {
      flushScheduled = true;
      getContext().scheduleOnce(FLUSH_INTERVAL, getContext().getSelf(), new FlushTick());
    }
  }

  private Behavior<ToCoordinator> onFlushTick(FlushTick m) {
    flushScheduled = false;
    commit();
    return this;
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
        .onMessage(ResultsArrived.class, this::onResultsArrived)
        .onMessage(ProgressArrived.class, this::onProgressArrived)
        .onMessage(ShardFinished.class, this::onShardFinished)
        .onMessage(DataPlaneClosed.class, this::onDataPlaneClosed)
        .onMessage(WorkerTerminated.class, this::onWorkerTerminated)
        .onMessage(PublishPolicy.class, this::onPublishPolicy)
        .onMessage(ToCoordinator.PolicyLoaded.class, this::onPolicyLoaded)
        .onMessage(PublishTimedOut.class, this::onPublishTimedOut)
        .onMessage(GetPolicyStatus.class, this::onGetPolicyStatus)
        .onMessage(RetryDue.class, this::onRetryDue)
        .onMessage(Scored.class, this::onScored)
        .onMessage(FlushTick.class, this::onFlushTick)
        .onSignal(
            PostStop.class,
            s -> {
              verifierPool.close();
              return this;
            })
        .build();
  }

  // ------------------------------------------------------------------ clients

  private Behavior<ToCoordinator> onSubmit(Submit m) {
    String model = m.job().spec().getModel();
    Integer vocab = vocabByModel.get(model);
    String tokenProblem = vocab == null ? null : tokenProblem(m.job(), model, vocab);
    if (tokenProblem != null) {
      m.replyTo().tell(new Submitted(null, tokenProblem));
      return this;
    }
    String id = JobIds.next();
    JsonlSink sink = null;
    if (m.job().jsonlPath() != null) {
      try {
        sink = JsonlSink.create(m.job().jsonlPath());
      } catch (JsonlSink.SinkException e) {
        m.replyTo().tell(new Submitted(null, e.getMessage()));
        return this;
      }
    }
    long now = System.currentTimeMillis();
    if (store != null) {
      JobSpec stored =
          m.job().spec().toBuilder()
              .clearPromptsPath()
              .clearPrompts()
              .addAllPrompts(m.job().prompts())
              .build();
      store.stageJob(
          id,
          m.owner(),
          stored,
          m.job().jsonlPath() == null ? null : m.job().jsonlPath().toString(),
          now);
    }
    Job job = new Job(id, m.job(), logs.create(id, m.owner()), sink, now);
    jobs.put(id, job);
    activeSet.add(job);
    commit(); // durable before the client hears its id
    var spec = m.job().spec();
    if (spec.hasPolicyVersion()
        && spec.getPolicyVersion() > 0
        && (policies == null
            || policies.version(spec.getModel(), spec.getPolicyVersion()) == null
            || !keptVersions(spec.getModel()).contains(spec.getPolicyVersion()))) {
      failJob(
          job,
          "policy_version "
              + spec.getPolicyVersion()
              + " of model '"
              + spec.getModel()
              + "' is not being served (served versions: "
              + new java.util.TreeSet<>(keptVersions(spec.getModel()))
              + "; the newest is "
              + latest(spec.getModel())
              + ")");
      m.replyTo().tell(new Submitted(id, null));
      return this;
    }
    if (spec.getZeroVariance() == quasiroll.v1.ZeroVarianceMode.ZERO_VARIANCE_GROW) {
      try {
        var kind =
            quasiroll.common.sampler.CouplingKind.parse(
                spec.getSampler().getKind().isEmpty() ? "iid" : spec.getSampler().getKind());
        if (!quasiroll.common.coupling.CouplingNoiseFactory.EXTENSIBLE.contains(kind)
            || (kind == quasiroll.common.sampler.CouplingKind.ANTITHETIC && spec.getK() % 2 != 0)
            || Job.firstIndex(m.job()) != 0
            || Job.indexCount(m.job()) != spec.getK()) {
          throw new quasiroll.common.error.BadInputException(
              "zero_variance GROW needs a sampler whose groups can grow"
                  + " keeping their samples: one of "
                  + quasiroll.common.coupling.CouplingNoiseFactory.EXTENSIBLE.stream()
                      .map(quasiroll.common.sampler.CouplingKind::shortName)
                      .sorted()
                      .toList()
                  + " (antithetic with an even k), not '"
                  + kind.shortName()
                  + "' (docs/rl.md says why),"
                  + " and the whole group (no index_offset / index_count)");
        }
      } catch (RuntimeException e) {
        failJob(job, e.getMessage());
        m.replyTo().tell(new Submitted(id, null));
        return this;
      }
    }
    scheduler.addJob(
        id,
        m.job().spec().getModel(),
        job.initialPrompts(),
        Job.firstIndex(m.job()),
        Job.indexCount(m.job()));
    getContext()
        .getLog()
        .info(
            "job {} queued: {} prompts x k={} on model '{}'",
            id,
            job.promptCount(),
            m.job().spec().getK(),
            m.job().spec().getModel());
    m.replyTo().tell(new Submitted(id, null));
    dispatch();
    return this;
  }

  /** Why a job's pre-tokenized prompts do not fit a vocabulary of {@code vocab}, or null. */
  private static String tokenProblem(ValidatedJob job, String model, int vocab) {
    for (int i = 0; i < job.prompts().size(); i++) {
      Prompt p = job.prompts().get(i);
      for (int t = 0; t < p.getTokenIdsCount(); t++) {
        if (p.getTokenIds(t) >= vocab) {
          return "prompts["
              + i
              + "] (id '"
              + p.getId()
              + "') token_ids["
              + t
              + "] "
              + p.getTokenIds(t)
              + " is outside the vocabulary of model '"
              + model
              + "': expected ids in [0, "
              + vocab
              + ") as its workers report";
        }
      }
    }
    return null;
  }

  private Behavior<ToCoordinator> onCancel(Cancel m) {
    Job job = jobs.get(m.jobId());
    if (job == null) {
      m.replyTo().tell(storedStatus(m.jobId())); // finished before this coordinator started
      return this;
    }
    if (job.active()) {
      job.cancel(System.currentTimeMillis());
      jobEnded(job);
    }
    commit();
    m.replyTo().tell(Optional.of(job.status()));
    return this;
  }

  private Behavior<ToCoordinator> onGetStatus(GetStatus m) {
    Job job = jobs.get(m.jobId());
    m.replyTo().tell(job == null ? storedStatus(m.jobId()) : Optional.of(job.status()));
    return this;
  }

  /** The last status of a job finished before this coordinator started (from the store). */
  private Optional<JobStatus> storedStatus(String jobId) {
    // A finished job's last event is its final status.
    return logs.get(jobId)
        .map(JobEventLog::last)
        .filter(quasiroll.v1.JobEvent::hasStatus)
        .map(quasiroll.v1.JobEvent::getStatus);
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
      getContext()
          .getLog()
          .info(
              "worker {} joined: model '{}' on {}, capacity {}",
              id,
              m.info().model(),
              m.info().device(),
              m.info().capacity());
    }
    w.info = m.info();
    w.agent = m.agent();
    w.credits = 0;
    if (m.info().vocabSize() > 0) {
      vocabByModel.merge(m.info().model(), m.info().vocabSize(), Math::min);
      failJobsOutsideVocabulary(m.info().model(), m.info().vocabSize());
    }
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

  private void failJobsOutsideVocabulary(String model, int vocab) {
    for (Job job : List.copyOf(jobs.values())) {
      if (job.active()
          && job.def.spec().getModel().equals(model)
          && job.maxPromptTokenId() >= vocab) {
        failJob(job, tokenProblem(job.def, model, vocab));
      }
    }
  }

  private void requeueAll(WorkerState w, String why) {
    for (String shardId : w.inFlight) {
      InFlight f = inFlight.remove(shardId);
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
  private void shardFailed(InFlight f, String why, boolean reportedError, boolean permanent) {
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
        failedShards.increment();
      }
      int limit = permanent ? settings.permanentAttempts() : settings.transientAttempts();
      if (attempt >= limit) {
        failJob(
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
      requeued.increment();
      if (!reportedError) {
        scheduler.requeue(job.id, f.shard.promptIndex(), missing, attempt);
        getContext()
            .getLog()
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
      getContext()
          .getLog()
          .warn(
              "shard {} failed on worker {} (attempt {} of {}, retry in {} ms): {}",
              f.shard.shardId(),
              f.workerId,
              attempt,
              limit,
              wait.toMillis(),
              why);
      getContext()
          .scheduleOnce(
              wait,
              getContext().getSelf(),
              new RetryDue(job.id, f.shard.promptIndex(), missing, attempt));
    } finally {
      MDC.remove("job");
      MDC.remove("shard");
    }
  }

  private Behavior<ToCoordinator> onRetryDue(RetryDue m) {
    Job job = jobs.get(m.jobId());
    if (job != null && job.active()) {
      scheduler.requeue(
          job.id, m.promptIndex(), job.missing(m.promptIndex(), m.indices()), m.attempt());
      dispatch();
    }
    return this;
  }

  /** Fails a job and stops its work; other jobs are untouched. */
  private void failJob(Job job, String why) {
    if (job.active()) {
      job.fail(why, System.currentTimeMillis());
      jobEnded(job);
    }
  }

  /**
   * A job reached a final state: forget its queue; when it failed or was cancelled, tell workers
   * still on it to stop (a succeeded job's shards in flight are only finishing).
   */
  private void jobEnded(Job job) {
    scheduler.removeJob(job.id);
    Set<ActorRef<ToWorker>> busy = new HashSet<>();
    if (job.state() != JobState.JOB_STATE_SUCCEEDED) {
      for (InFlight f : inFlight.values()) {
        if (f.shard.jobId().equals(job.id) && workers.containsKey(f.workerId)) {
          busy.add(workers.get(f.workerId).agent);
        }
      }
    }
    busy.forEach(a -> a.tell(new CancelJobWork(job.id)));
    if (job.state() == JobState.JOB_STATE_FAILED) {
      getContext().getLog().error("job {} FAILED: {}", job.id, job.error());
    } else {
      getContext().getLog().info("job {} {}", job.id, job.state());
    }
    updateGauges();
    if (store != null) {
      // Committed now, then served from the store: nothing of a finished job stays on the heap.
      commit();
      jobs.remove(job.id);
    }
  }

  // ------------------------------------------------------------------ data plane

  /**
   * Results are accepted only on the data plane stream of the worker the shard is assigned to, only
   * while it is in flight, and only for that shard's prompt and indices; anything else (a forged or
   * stale result) is refused and counted ({@code quasiroll_coordinator_refused_results}).
   */
  /** One actor message per batch: each result as a SampleArrived, then the shard's end. */
  private Behavior<ToCoordinator> onResultsArrived(ResultsArrived m) {
    for (SampleResult r : m.results()) {
      onSampleArrived(new SampleArrived(m.workerId(), m.shardId(), r));
    }
    if (m.finished() != null) {
      onShardFinished(m.finished());
    }
    return this;
  }

  private Behavior<ToCoordinator> onSampleArrived(SampleArrived m) {
    InFlight f = inFlight.get(m.shardId());
    Job job = f == null ? null : jobs.get(f.shard.jobId());
    if (f != null && job == null && f.workerId.equals(m.workerId())) {
      return this; // the shard's job ended (and left memory) while the shard was still running
    }
    if (f == null
        || job == null
        || !f.workerId.equals(m.workerId())
        || !f.covers(job, m.result())) {
      refusedResults.increment();
      if (refusedResults.count() <= 10 || ((long) refusedResults.count()) % 1000 == 0) {
        getContext()
            .getLog()
            .warn(
                "refused a result from worker '{}' for shard '{}' (prompt '{}', index {}):"
                    + " not a shard in flight on that worker with that key ({} refused so far)",
                m.workerId(),
                m.shardId(),
                m.result().getPromptId(),
                m.result().getIndex(),
                (long) refusedResults.count());
      }
      return this;
    }
    Job.Outcome outcome =
        job.accept(m.result(), System.currentTimeMillis(), latest(job.def.spec().getModel()));
    switch (outcome) {
      case SUPERSEDED -> {
        // from a shard of a regenerated group: never mixed in, but an aborted sample is
        // still reported (tagged with its version), as the abort mode promises
        if (m.result().getFinishReason() == quasiroll.v1.FinishReason.FINISH_REASON_ABORTED) {
          score(job, m.result(), true);
        }
      }
      case REGENERATE -> {
        // cut short by a publish in abort mode: reported, and its group started again
        score(job, m.result(), true);
        regenerate(job, m.result());
      }
      case ACCEPTED -> {
        samples.increment();
        tokens.increment(m.result().getTokenIdsCount());
        f.accepted++;
        score(job, m.result(), false);
      }
      case DUPLICATE, VIOLATION -> {
        duplicates.increment();
        if (outcome == Job.Outcome.VIOLATION) {
          violations.increment();
        }
        f.duplicates++;
      }
      default -> {}
    }
    return this;
  }

  /**
   * Scores a sample (off the actor when its prompt has a verifier) and then completes it, or only
   * reports it ({@code reportOnly}: an aborted sample that is not part of its group).
   */
  private void score(Job job, SampleResult r, boolean reportOnly) {
    Verifier v = job.verifierOf(r);
    if (v == null) {
      finishScoring(job, r, null, reportOnly);
      commitSoon();
    } else {
      ActorRef<ToCoordinator> self = getContext().getSelf();
      verifierPool.score(
          v, r.getText(), reward -> self.tell(new Scored(job.id, r, reward, reportOnly)));
    }
  }

  private Behavior<ToCoordinator> onScored(Scored m) {
    Job job = jobs.get(m.jobId());
    if (job != null) {
      finishScoring(job, m.result(), m.reward(), m.reportOnly());
    }
    commitSoon();
    return this;
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
        job.complete(r, reward, System.currentTimeMillis(), latest(job.def.spec().getModel()));
    switch (outcome) {
      case GROW -> {
        int p = job.promptIndexOf(r.getPromptId());
        int size = job.groupSize(p);
        int[] more = new int[size / 2];
        java.util.Arrays.setAll(more, i -> size / 2 + i);
        scheduler.requeue(job.id, p, more);
        getContext()
            .getLog()
            .info(
                "job {} prompt '{}': all rewards equal, grown to {} samples",
                job.id,
                r.getPromptId(),
                size);
        dispatch();
      }
      case DROP -> {
        int next = job.nextReservePrompt();
        if (next >= 0) {
          int first = Job.firstIndex(job.def);
          int[] all = new int[Job.indexCount(job.def)];
          java.util.Arrays.setAll(all, i -> first + i);
          scheduler.requeue(job.id, next, all);
          dispatch();
        }
      }
      case REGENERATE -> regenerate(job, r);
      default -> {}
    }
    if (!job.active()) {
      jobEnded(job);
    }
  }

  /** Starts prompt r's group again on the newest version (abort mode or max_staleness). */
  private void regenerate(Job job, SampleResult r) {
    int p = job.promptIndexOf(r.getPromptId());
    long to = latest(job.def.spec().getModel());
    scheduler.requeue(job.id, p, job.regenerate(p, to));
    getContext()
        .getLog()
        .info(
            "job {} prompt '{}' regenerated on policy version {} ({})",
            job.id,
            r.getPromptId(),
            to,
            r.getFinishReason() == quasiroll.v1.FinishReason.FINISH_REASON_ABORTED
                ? "a publish in abort mode cut it short"
                : "it fell more than max_staleness behind");
    dispatch();
  }

  private Behavior<ToCoordinator> onProgressArrived(ProgressArrived m) {
    InFlight f = inFlight.get(m.shardId());
    Job job = f == null ? null : jobs.get(f.shard.jobId());
    if (job != null) {
      job.progress(m.progress());
    }
    return this;
  }

  private Behavior<ToCoordinator> onShardFinished(ShardFinished m) {
    InFlight f = inFlight.get(m.shardId());
    DataPlaneAck.Builder ack = DataPlaneAck.newBuilder().setShardId(m.shardId());
    if (f != null && !f.workerId.equals(m.workerId())) {
      refusedResults.increment();
      getContext()
          .getLog()
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
      shardLatency.record(System.nanoTime() - f.startNanos, TimeUnit.NANOSECONDS);
      if (m.error().isEmpty()) {
        shardFailed(f, "the worker finished it without them", true, false);
      } else {
        shardFailed(f, m.error(), true, m.permanent());
      }
      dispatch();
    }
    commit(); // the shard's samples are durable before the worker hears they were accepted
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
    getContext()
        .getLog()
        .info(
            "publishing policy version {} of '{}' ({} tensors, {} bytes) to {} workers",
            v.number(),
            model,
            v.changed().size(),
            v.bytes(),
            targets.size());
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
    if (pending != null
        && pending.version.number() == m.version()
        && pending.waiting.remove(m.workerId())) {
      if (!m.error().isEmpty()) {
        failPublish(
            m.modelId(),
            "worker " + m.workerId() + " refused policy version " + m.version() + ": " + m.error());
        return this;
      }
      pending.loaded++;
      maybeCompletePublish(m.modelId());
    } else if (!m.error().isEmpty() && syncing) {
      // a late joiner could not load a version the others serve: it stays without it
      getContext()
          .getLog()
          .error(
              "worker {} could not load policy version {} of '{}': {}",
              m.workerId(),
              m.version(),
              m.modelId(),
              m.error());
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
    getContext()
        .getLog()
        .info(
            "policy version {} of '{}' is live on {} workers after {} ms",
            p.version.number(),
            model,
            p.loaded,
            ms);
    p.request
        .replyTo()
        .tell(
            new PublishOutcome(
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
    dispatch();
  }

  private void failPublish(String model, String why) {
    PendingPublish p = publishing.remove(model);
    if (p == null) {
      return;
    }
    timers.cancel(new PublishTimedOut(model, p.version.number()));
    policies.drop(model, p.version.number());
    getContext()
        .getLog()
        .warn("policy version {} of '{}' refused: {}", p.version.number(), model, why);
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
      failPublish(
          m.modelId(),
          "workers "
              + new java.util.TreeSet<>(p.waiting)
              + " did not load policy version "
              + m.version()
              + " within "
              + PUBLISH_TIMEOUT.toSeconds()
              + " s");
    }
    return this;
  }

  private Behavior<ToCoordinator> onGetPolicyStatus(GetPolicyStatus m) {
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
    for (WorkerState w : workers.values()) {
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
    return this;
  }

  // ------------------------------------------------------------------ scheduling

  /** Hands queued shards to workers with credits and an open data plane. */
  private void dispatch() {
    // Round robin, one shard per worker per round: workers that keep many credits out (a
    // continuous-batching worker asks for enough shards to fill its batch) share a job's
    // shards instead of the first one taking them all.
    boolean assigned = true;
    while (assigned) {
      assigned = false;
      for (WorkerState w : workers.values()) {
        if (!w.planeOpen || w.credits <= 0 || !w.syncing.isEmpty()) {
          continue;
        }
        ShardScheduler.Shard s = scheduler.next(w.info.model(), w.info.capacity());
        if (s != null) {
          assign(w, s);
          assigned = true;
        }
      }
    }
    updateWaitingReasons();
    updateGauges();
    commitSoon();
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
                ? spec.getSampler().toBuilder()
                    .putOptions(
                        quasiroll.common.noise.ExtensibleOrder.OPTION,
                        Integer.toString(job.growCap()))
                    .build()
                : spec.getSampler(),
            spec.getDecode(),
            spec.getSeed(),
            version);
    w.agent.tell(new AssignShard(task));
    w.credits--;
    w.inFlight.add(s.shardId());
    inFlight.put(s.shardId(), new InFlight(s, w.info.workerId(), job.epoch(s.promptIndex())));
    job.markRunning();
    job.setWaitingReason("");
  }

  private void updateWaitingReasons() {
    Set<String> models = new HashSet<>();
    Set<String> connected = new HashSet<>();
    for (WorkerState w : workers.values()) {
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

  private void updateGauges() {
    queueDepth.set(scheduler.queueDepth());
    liveWorkers.set(workers.size());
    activeSet.removeIf(j -> !j.active());
    activeJobs.set(activeSet.size());
  }
}
