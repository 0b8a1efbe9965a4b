package quasiroll.coordinator.job;

import com.typesafe.config.Config;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.function.Consumer;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.PostStop;
import org.apache.pekko.actor.typed.SupervisorStrategy;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;
import org.apache.pekko.actor.typed.receptionist.Receptionist;
import org.apache.pekko.cluster.ClusterEvent;
import org.apache.pekko.cluster.UniqueAddress;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.cluster.typed.Subscribe;
import quasiroll.cluster.ClusterKeys;
import quasiroll.cluster.wire.ToCoordinator;
import quasiroll.cluster.wire.ToCoordinator.RegisterWorker;
import quasiroll.cluster.wire.ToCoordinator.RequestWork;
import quasiroll.cluster.wire.ToWorker.Welcome;
import quasiroll.coordinator.events.JobEventLogs;
import quasiroll.coordinator.policy.PolicyStore;
import quasiroll.coordinator.sink.SinkWriter;
import quasiroll.coordinator.store.JobStore;
import quasiroll.v1.DataPlaneAck;
import quasiroll.v1.JobStatus;
import quasiroll.v1.PolicyStatus;
import quasiroll.v1.PublishMode;
import quasiroll.v1.PublishPolicyResponse;
import quasiroll.v1.SampleProgress;
import quasiroll.v1.SampleResult;

/**
 * The job manager (a cluster singleton on the coordinator role): accepts jobs, hands shards to
 * workers that pull them, takes in results from the data plane, and re-queues whatever a lost
 * worker had in flight.
 *
 * <p>Exactly once: results are keyed (job, prompt, index) and deduplicated by {@link Job}; a shard
 * counts as done only for the indices that actually arrived, so a shard lost at any point is re-run
 * for exactly its missing indices. A worker is presumed lost when its data plane stream ends
 * (immediate on a crash: the socket closes) or when its node is downed or removed from the cluster
 * (cluster membership events, matched on the node's address and incarnation uid, see {@link
 * WorkerRegistry}).
 *
 * <p>Failures: a shard whose worker reports an error is retried after an exponential back-off; a
 * permanent error (bad input) fails the job after a few attempts, any other after a few more
 * ({@link Settings}). A failed sink write or reward fails only its job. Verifiers run on a {@link
 * VerifierPool}, never on this actor. Results are accepted only from the worker a shard is assigned
 * to, for that shard's keys.
 *
 * <p>Durability (with a {@link JobStore}): a job's spec is committed before its id is returned,
 * samples are committed in batches (at most {@link JobPersistence#FLUSH_INTERVAL} apart) and always
 * before the shard they belong to is acknowledged, and events reach client streams only once
 * committed. On start every unfinished job is resumed from the store and only never-stored samples
 * are computed again.
 *
 * <p>Owns: jobs ({@link JobTable}), the shard queue ({@link ShardScheduler}), the worker registry
 * ({@link WorkerRegistry}: credits, in-flight shards). Does NOT own: client streams (they read the
 * jobs' event logs directly).
 *
 * <p>This class is the protocol and a message router; the work is done by its parts, all called on
 * this actor only: {@link JobAdmission} (submit, cancel, status), {@link ShardDispatcher} (shards
 * to workers), {@link ResultIntake} (data plane: ownership, deduplication, acks), {@link
 * SampleScoring} (rewards, adaptive groups, regeneration), {@link ShardRetries} (lost and failed
 * shards, back-off), {@link JobFinisher} (a job's end), {@link PolicyPublisher} (policy versions to
 * workers), {@link JobPersistence} (commits, resume).
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
   * Several results of one shard in one message (a worker's {@code ResultBatch}); when {@code
   * finished} is non-null the shard ended after them, exactly as a following {@link ShardFinished}
   * would say.
   */
  public record ResultsArrived(
      String workerId, String shardId, java.util.List<SampleResult> results, ShardFinished finished)
      implements Command {}

  /**
   * The worker finished a shard (error non-empty when it failed; {@code permanent} when the failure
   * would repeat anywhere); {@code ack} answers it.
   */
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

  /** The watched agent of a worker outside a cluster stopped. */
  record WorkerTerminated(String workerId) implements Command {}

  /** A cluster node (address and incarnation uid) was downed or removed ({@code how}). */
  record NodeGone(UniqueAddress node, String how) implements Command {}

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

  record PublishTimedOut(String modelId, long version) implements Command {}

  /** How long workers get to load a published version before the publish is refused. */
  public static final java.time.Duration PUBLISH_TIMEOUT = java.time.Duration.ofMinutes(5);

  /** A failed shard's back-off is over: its missing indices go back into the queue. */
  record RetryDue(String jobId, int promptIndex, int[] indices, int attempt) implements Command {}

  /** Time to commit what is staged in the job store (samples arrive faster than fsyncs). */
  record FlushTick() implements Command {}

  /**
   * Runs {@code onActor} here: what waited for a job store commit and touches this actor's state.
   */
  record AfterCommit(Runnable onActor) implements Command {}

  /** The job store's writer failed: the coordinator stops. */
  record StoreFailed(quasiroll.coordinator.store.JobStore.StoreException error)
      implements Command {}

  /** A sink writer finished a group (on a sink thread): written and forced, or failed. */
  record SinkWritten(String jobId, SinkWriter.Written written) implements Command {}

  /** A verifier finished (on a verifier thread) with an admitted sample's reward. */
  record Scored(String jobId, SampleResult result, VerifierPool.Outcome reward, boolean reportOnly)
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
   * @param verifierQueue verifier calls reserved, queued or running at once (one job: at most
   *     half); a job whose calls would exceed it gets no more shards until they drain
   * @param sinkThreads threads writing JSONL sinks off the actor
   * @param sinkMaxPendingGroups groups one sink may have waiting; past it its job gets no more
   *     shards until the sink catches up
   */
  public record Settings(
      int permanentAttempts,
      int transientAttempts,
      Duration backoffBase,
      Duration backoffMax,
      int verifierThreads,
      Duration verifierTimeout,
      int verifierQueue,
      int sinkThreads,
      int sinkMaxPendingGroups) {
    public static final Settings DEFAULTS =
        new Settings(
            3, 8, Duration.ofMillis(500), Duration.ofSeconds(30), 4, Duration.ofSeconds(30));

    /** With the default verifier queue (1024), 2 sink threads and 16 pending groups per sink. */
    public Settings(
        int permanentAttempts,
        int transientAttempts,
        Duration backoffBase,
        Duration backoffMax,
        int verifierThreads,
        Duration verifierTimeout) {
      this(
          permanentAttempts,
          transientAttempts,
          backoffBase,
          backoffMax,
          verifierThreads,
          verifierTimeout,
          1024,
          2,
          16);
    }

    public static Settings from(Config c) {
      return new Settings(
          c.getInt("quasiroll.coordinator.retry.permanent-attempts"),
          c.getInt("quasiroll.coordinator.retry.transient-attempts"),
          c.getDuration("quasiroll.coordinator.retry.backoff-base"),
          c.getDuration("quasiroll.coordinator.retry.backoff-max"),
          c.getInt("quasiroll.verifiers.threads"),
          c.getDuration("quasiroll.verifiers.timeout"),
          c.getInt("quasiroll.verifiers.queue"),
          c.getInt("quasiroll.sinks.threads"),
          c.getInt("quasiroll.sinks.max-pending-groups"));
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

  // ------------------------------------------------------------------ parts

  private final String dataPlaneAddress;
  private final VerifierPool verifierPool;
  private final SinkThreads sinkThreads;
  private final JobTable jobs = new JobTable();
  private final JobFinisher finisher;
  private final WorkerRegistry workers = new WorkerRegistry();
  private final JobManagerMetrics metrics;
  private final JobPersistence persistence;
  private final ShardDispatcher dispatcher;
  private final ShardRetries retries;
  private final JobAdmission admission;
  private final ResultIntake intake;
  private final SampleScoring scoring;
  private final PolicyPublisher publisher;

  private JobManager(
      ActorContext<ToCoordinator> ctx,
      JobEventLogs logs,
      String dataPlaneAddress,
      MeterRegistry m,
      Settings settings,
      JobSpecValidator validator,
      PolicyStore policies,
      TimerScheduler<ToCoordinator> timers) {
    super(ctx);
    // The parts log through ctx.getLog(); without this its logger would be named after whichever
    // part logged first.
    ctx.setLoggerName(JobManager.class);
    this.dataPlaneAddress = dataPlaneAddress;
    this.verifierPool =
        new VerifierPool(
            settings.verifierThreads(), settings.verifierQueue(), settings.verifierTimeout());
    this.sinkThreads =
        new SinkThreads(settings.sinkThreads(), settings.sinkMaxPendingGroups(), ctx.getSelf());
    // verifier calls reserved, queued or running (bounded by quasiroll.verifiers.queue)
    m.gauge("quasiroll_coordinator_verifier_calls", verifierPool, VerifierPool::outstanding);
    ShardScheduler scheduler = new ShardScheduler();
    InFlightShards inFlight = new InFlightShards(verifierPool);
    ServedVersions versions = new ServedVersions(policies, jobs);
    this.metrics = new JobManagerMetrics(m, scheduler, workers, jobs);
    this.persistence = new JobPersistence(ctx, logs, sinkThreads);
    this.dispatcher =
        new ShardDispatcher(
            workers,
            jobs,
            inFlight,
            scheduler,
            versions,
            metrics,
            persistence,
            verifierPool,
            sinkThreads);
    this.finisher =
        new JobFinisher(
            ctx, jobs, scheduler, inFlight, workers, metrics, persistence, verifierPool);
    this.retries =
        new ShardRetries(ctx, settings, jobs, scheduler, inFlight, finisher, dispatcher, metrics);
    this.scoring =
        new SampleScoring(
            ctx, jobs, scheduler, verifierPool, versions, dispatcher, finisher, persistence);
    this.intake =
        new ResultIntake(
            ctx,
            jobs,
            inFlight,
            workers,
            versions,
            scoring,
            retries,
            dispatcher,
            persistence,
            metrics);
    this.admission =
        new JobAdmission(
            ctx,
            logs,
            policies,
            jobs,
            workers,
            versions,
            scheduler,
            dispatcher,
            finisher,
            persistence);
    this.publisher = new PolicyPublisher(ctx, timers, policies, versions, workers, dispatcher);
    ctx.getSystem()
        .receptionist()
        .tell(Receptionist.register(ClusterKeys.JOB_MANAGER, ctx.getSelf()));
    if (isCluster(ctx)) {
      var subscriptions = Cluster.get(ctx.getSystem()).subscriptions();
      subscriptions.tell(
          Subscribe.create(
              ctx.messageAdapter(
                  ClusterEvent.MemberDowned.class,
                  e -> new NodeGone(e.member().uniqueAddress(), "downed")),
              ClusterEvent.MemberDowned.class));
      subscriptions.tell(
          Subscribe.create(
              ctx.messageAdapter(
                  ClusterEvent.MemberRemoved.class,
                  e -> new NodeGone(e.member().uniqueAddress(), "removed")),
              ClusterEvent.MemberRemoved.class));
    }
    if (persistence.store() != null) {
      persistence.resume(validator, jobs, scheduler);
      metrics.updateGauges();
    }
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
        .onMessage(NodeGone.class, this::onNodeGone)
        .onMessage(PublishPolicy.class, this::onPublishPolicy)
        .onMessage(ToCoordinator.PolicyLoaded.class, this::onPolicyLoaded)
        .onMessage(PublishTimedOut.class, this::onPublishTimedOut)
        .onMessage(GetPolicyStatus.class, this::onGetPolicyStatus)
        .onMessage(RetryDue.class, this::onRetryDue)
        .onMessage(Scored.class, this::onScored)
        .onMessage(SinkWritten.class, this::onSinkWritten)
        .onMessage(FlushTick.class, this::onFlushTick)
        .onMessage(AfterCommit.class, this::onAfterCommit)
        .onMessage(StoreFailed.class, this::onStoreFailed)
        .onSignal(
            PostStop.class,
            s -> {
              verifierPool.close();
              persistence.close();
              sinkThreads.close();
              return this;
            })
        .build();
  }

  // ------------------------------------------------------------------ clients

  private Behavior<ToCoordinator> onSubmit(Submit m) {
    admission.onSubmit(m);
    return this;
  }

  private Behavior<ToCoordinator> onCancel(Cancel m) {
    admission.onCancel(m);
    return this;
  }

  private Behavior<ToCoordinator> onGetStatus(GetStatus m) {
    admission.onGetStatus(m);
    return this;
  }

  private Behavior<ToCoordinator> onLiveModels(LiveModels m) {
    m.replyTo().tell(workers.liveModels());
    return this;
  }

  // ------------------------------------------------------------------ workers

  private Behavior<ToCoordinator> onRegisterWorker(RegisterWorker m) {
    String id = m.info().workerId();
    UniqueAddress node =
        m.nodeUid() == 0 ? null : new UniqueAddress(nodeAddress(m.agent()), m.nodeUid());
    boolean known = workers.get(id) != null;
    WorkerState w = workers.register(m.info(), m.agent(), node);
    if (w == null) {
      getContext()
          .getLog()
          .warn(
              "refused the registration of worker {}: its node {} has left the cluster", id, node);
      return this;
    }
    if (!known) {
      if (node == null) {
        getContext().watchWith(m.agent(), new WorkerTerminated(id));
      }
      getContext()
          .getLog()
          .info(
              "worker {} joined: model '{}' on {}, capacity {}{}",
              id,
              m.info().model(),
              m.info().device(),
              m.info().capacity(),
              node == null ? "" : ", node " + node.address() + " uid " + node.longUid());
    }
    if (m.info().vocabSize() > 0) {
      workers.reportVocabulary(m.info().model(), m.info().vocabSize());
      admission.failJobsOutsideVocabulary(m.info().model(), m.info().vocabSize());
    }
    m.agent().tell(new Welcome(dataPlaneAddress));
    publisher.syncPolicies(w);
    metrics.updateGauges();
    return this;
  }

  private Behavior<ToCoordinator> onRequestWork(RequestWork m) {
    WorkerState w = workers.get(m.workerId());
    if (w != null) {
      w.credits += m.credits();
      dispatcher.dispatch();
    }
    return this;
  }

  private Behavior<ToCoordinator> onDataPlaneOpened(DataPlaneOpened m) {
    WorkerState w = workers.get(m.workerId());
    if (w != null) {
      w.planeOpen = true;
      dispatcher.dispatch();
    }
    return this;
  }

  private Behavior<ToCoordinator> onDataPlaneClosed(DataPlaneClosed m) {
    WorkerState w = workers.get(m.workerId());
    if (w != null) {
      w.planeOpen = false;
      retries.requeueAll(w, "its data plane stream ended");
      dispatcher.dispatch();
    }
    return this;
  }

  private Behavior<ToCoordinator> onWorkerTerminated(WorkerTerminated m) {
    WorkerState w = workers.remove(m.workerId());
    if (w != null) {
      workerLost(w, "its agent stopped");
    }
    return this;
  }

  private Behavior<ToCoordinator> onNodeGone(NodeGone m) {
    for (WorkerState w : workers.nodeGone(m.node())) {
      workerLost(w, "its node was " + m.how() + " (uid " + m.node().longUid() + ")");
    }
    return this;
  }

  /** {@code w}, already out of the registry, is gone: its in-flight shards are re-queued. */
  private void workerLost(WorkerState w, String why) {
    publisher.workerLeft(w);
    retries.requeueAll(w, why);
    getContext().getLog().warn("worker {} left: {}", w.info.workerId(), why);
    metrics.updateGauges();
    dispatcher.dispatch();
  }

  /** The address of the node {@code agent} lives on (this node's own for a local agent). */
  private org.apache.pekko.actor.Address nodeAddress(ActorRef<?> agent) {
    org.apache.pekko.actor.Address a = agent.path().address();
    return a.hasGlobalScope() ? a : getContext().getSystem().address();
  }

  private static boolean isCluster(ActorContext<?> ctx) {
    return "cluster".equals(ctx.getSystem().settings().config().getString("pekko.actor.provider"));
  }

  private Behavior<ToCoordinator> onRetryDue(RetryDue m) {
    retries.onRetryDue(m);
    return this;
  }

  // ------------------------------------------------------------------ data plane

  private Behavior<ToCoordinator> onResultsArrived(ResultsArrived m) {
    intake.onResultsArrived(m);
    return this;
  }

  private Behavior<ToCoordinator> onSampleArrived(SampleArrived m) {
    intake.onSampleArrived(m);
    return this;
  }

  private Behavior<ToCoordinator> onProgressArrived(ProgressArrived m) {
    intake.onProgressArrived(m);
    return this;
  }

  private Behavior<ToCoordinator> onShardFinished(ShardFinished m) {
    intake.onShardFinished(m);
    return this;
  }

  private Behavior<ToCoordinator> onScored(Scored m) {
    scoring.onScored(m);
    return this;
  }

  private Behavior<ToCoordinator> onSinkWritten(SinkWritten m) {
    Job job = jobs.get(m.jobId());
    if (job != null && job.active()) {
      job.groupWritten(m.written(), System.currentTimeMillis());
      if (!job.active()) {
        finisher.jobEnded(job);
      }
      persistence.commitSoon();
      dispatcher.wake(m.jobId());
    }
    return this;
  }

  private Behavior<ToCoordinator> onFlushTick(FlushTick m) {
    persistence.onFlushTick();
    return this;
  }

  private Behavior<ToCoordinator> onAfterCommit(AfterCommit m) {
    m.onActor().run();
    return this;
  }

  private Behavior<ToCoordinator> onStoreFailed(StoreFailed m) {
    persistence.onStoreFailed(m.error());
    return this;
  }

  // ------------------------------------------------------------------ policies

  private Behavior<ToCoordinator> onPublishPolicy(PublishPolicy m) {
    publisher.onPublishPolicy(m);
    return this;
  }

  private Behavior<ToCoordinator> onPolicyLoaded(ToCoordinator.PolicyLoaded m) {
    publisher.onPolicyLoaded(m);
    return this;
  }

  private Behavior<ToCoordinator> onPublishTimedOut(PublishTimedOut m) {
    publisher.onPublishTimedOut(m);
    return this;
  }

  private Behavior<ToCoordinator> onGetPolicyStatus(GetPolicyStatus m) {
    publisher.onGetPolicyStatus(m);
    return this;
  }
}
