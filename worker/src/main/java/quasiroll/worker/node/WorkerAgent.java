package quasiroll.worker.node;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.util.ArrayDeque;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.PostStop;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;
import org.apache.pekko.actor.typed.receptionist.Receptionist;
import org.slf4j.MDC;
import quasiroll.cluster.ClusterKeys;
import quasiroll.cluster.SampleHashes;
import quasiroll.cluster.TlsFiles;
import quasiroll.cluster.wire.ShardTask;
import quasiroll.cluster.wire.ToCoordinator;
import quasiroll.cluster.wire.ToCoordinator.RegisterWorker;
import quasiroll.cluster.wire.ToCoordinator.RequestWork;
import quasiroll.cluster.wire.ToWorker;
import quasiroll.cluster.wire.ToWorker.AssignShard;
import quasiroll.cluster.wire.ToWorker.CancelJobWork;
import quasiroll.cluster.wire.ToWorker.Welcome;
import quasiroll.cluster.wire.WorkerInfo;
import quasiroll.common.error.BadInputException;
import quasiroll.v1.ResultBatch;
import quasiroll.v1.ShardDone;
import quasiroll.v1.WorkerMessage;
import quasiroll.worker.engine.ProgressSink;
import quasiroll.worker.engine.ResolvedShard;
import quasiroll.worker.engine.ShardRunner;
import quasiroll.worker.policy.PolicyFiles;
import quasiroll.worker.policy.PolicyVersions;

/**
 * A worker node's agent: finds the job manager through the Receptionist, registers the worker
 * (model, device, capacity), PULLS shards by granting credits (one per free slot plus one
 * prefetched shard, so the decode loop never waits on a round trip), runs them on its decode
 * threads and streams every sample to the coordinator's gRPC data plane, a shard's results batched
 * into few messages ({@link #RESULT_BATCH} at most per message, the last one carrying the shard's
 * end).
 *
 * <p>With a continuous-batching runner ({@link ShardRunner#batchRows()} > 0) the slots are counted
 * in samples, not shards: the agent keeps credits out until the samples it holds (running, queued,
 * and expected from outstanding credits at the average shard size seen) reach the runner's batch
 * rows plus one shard, so finished samples are replaced at once while pull-based back-pressure
 * stays (nothing is sent to a worker that did not ask).
 *
 * <p>Owns: the local shard queue, the decode threads, the cancelled-jobs set the decode loop polls,
 * the data plane stream. Does NOT own: which shard runs where (the job manager decides),
 * deduplication or retries (the coordinator re-queues a lost shard; every sample is a pure function
 * of its key, so a re-run is identical).
 */
public final class WorkerAgent extends AbstractBehavior<ToWorker> {
  /**
   * How often a streaming job's unfinished samples report progress: every {@code everyTokens}
   * tokens or {@code everyMs} milliseconds, whichever comes first (quasiroll.worker.progress-* of
   * the configuration the node loaded).
   */
  public record Progress(int everyTokens, long everyMs) {
    public Progress {
      if (everyTokens < 1) {
        throw new quasiroll.common.error.BadInputException(
            "quasiroll.worker.progress-every-tokens is "
                + everyTokens
                + ": expected an integer >= 1");
      }
      if (everyMs < 0) {
        throw new quasiroll.common.error.BadInputException(
            "quasiroll.worker.progress-every is " + everyMs + " ms: expected >= 0");
      }
    }

    public static Progress from(com.typesafe.config.Config config) {
      return new Progress(
          config.getInt("quasiroll.worker.progress-every-tokens"),
          config.getDuration(
              "quasiroll.worker.progress-every", java.util.concurrent.TimeUnit.MILLISECONDS));
    }
  }

  // ------------------------------------------------------------------ protocol (local)

  /** The Receptionist's view of the job manager changed. */
  private record JobManagersChanged(Receptionist.Listing listing) implements ToWorker.Local {}

  /** The job manager we registered with died (its node left the cluster). */
  private record JobManagerGone() implements ToWorker.Local {}

  /** A decode thread finished (or abandoned) a shard; its slot is free again. */
  private record DecodeSlotFreed(String shardId, int samples) implements ToWorker.Local {}

  /** Shards held beyond the decode threads: ready to start the moment one frees up. */
  static final int PREFETCH = 1;

  /**
   * Results of one shard per data-plane message at most: system property {@code
   * quasiroll.worker.result-batch} (default 64); 1 sends the per-sample messages of earlier
   * versions (one {@code result} message per sample, then a {@code done} message), which the
   * cluster benchmark uses as its same-run baseline.
   */
  static final int RESULT_BATCH = resultBatch();

  private static int resultBatch() {
    int n = Integer.getInteger("quasiroll.worker.result-batch", 64);
    if (n < 1) {
      throw new quasiroll.common.error.BadInputException(
          "quasiroll.worker.result-batch "
              + n
              + " is invalid: expected >= 1 results per data-plane message");
    }
    return n;
  }

  public static Behavior<ToWorker> create(
      WorkerInfo info, int parallel, ShardRunner runner, String token, MeterRegistry metrics) {
    return create(info, parallel, runner, token, null, metrics);
  }

  /** With the reference configuration's progress settings (tests); nodes pass their own. */
  public static Behavior<ToWorker> create(
      WorkerInfo info,
      int parallel,
      ShardRunner runner,
      String token,
      TlsFiles tls,
      MeterRegistry metrics) {
    return create(
        info,
        parallel,
        runner,
        token,
        tls,
        Progress.from(quasiroll.common.config.QuasirollConfig.load(null)),
        metrics);
  }

  /**
   * @param tls the data plane's TLS material (mutual TLS with the node certificate), or null
   * @param progress the progress cadence from the configuration the node loaded
   */
  public static Behavior<ToWorker> create(
      WorkerInfo info,
      int parallel,
      ShardRunner runner,
      String token,
      TlsFiles tls,
      Progress progress,
      MeterRegistry metrics) {
    return create(
        info,
        parallel,
        runner,
        token,
        tls,
        progress,
        new PolicyFiles(
            PolicyFiles.Mode.AUTO,
            java.nio.file.Path.of(
                System.getProperty("java.io.tmpdir"),
                "quasiroll-policy-cache",
                "worker-" + ProcessHandle.current().pid() + "-" + java.util.UUID.randomUUID())),
        metrics);
  }

  /**
   * @param policyFiles where published versions' files are read or fetched to (one per worker
   *     process: it outlives the agent of a rejoined worker, like the runner)
   */
  public static Behavior<ToWorker> create(
      WorkerInfo info,
      int parallel,
      ShardRunner runner,
      String token,
      TlsFiles tls,
      Progress progress,
      PolicyFiles policyFiles,
      MeterRegistry metrics) {
    return Behaviors.setup(
        ctx ->
            new WorkerAgent(
                ctx, info, parallel, runner, token, tls, progress, policyFiles, metrics));
  }

  private final WorkerInfo info;
  private final int parallel;
  private final ShardRunner runner;
  private final String token;
  private final TlsFiles tls;
  private final PolicyFiles policyFiles;
  private final Progress progressEvery;
  private final ExecutorService decodeThreads;
  private final ArrayDeque<ShardTask> queued = new ArrayDeque<>();
  private final Set<String> cancelledJobs = ConcurrentHashMap.newKeySet();

  /** Running shards on a policy version below this stop at their next step (abort mode). */
  private final java.util.concurrent.atomic.AtomicLong abortBelow =
      new java.util.concurrent.atomic.AtomicLong();

  /** Loads policy versions one at a time, off the actor and the decode threads. */
  private final ExecutorService policyLoader =
      Executors.newSingleThreadExecutor(
          r -> {
            Thread t = new Thread(r, "policy-loader");
            t.setDaemon(true);
            return t;
          });

  private final AtomicInteger queueDepth;

  /** 1 while a job manager has welcomed this worker (scripts wait for it after a start). */
  private final AtomicInteger registered;

  private final Counter samples;
  private final Counter tokens;
  private final Timer shardLatency;
  private ActorRef<ToCoordinator> jobManager;
  private DataPlaneClient dataPlane;
  private String dataPlaneAddress;
  private int running;

  /** Continuous batching: the runner's batch rows (0: one shard per decode thread). */
  private final int batchRows;

  private int runningSamples;
  private int queuedSamples;

  /** Credits granted to the job manager and not yet used by an assignment. */
  private int outstanding;

  private long assignedShards;
  private long assignedSamples;

  private WorkerAgent(
      ActorContext<ToWorker> ctx,
      WorkerInfo info,
      int parallel,
      ShardRunner runner,
      String token,
      TlsFiles tls,
      Progress progressEvery,
      PolicyFiles policyFiles,
      MeterRegistry metrics) {
    super(ctx);
    this.tls = tls;
    this.policyFiles = policyFiles;
    if (runner instanceof PolicyVersions versions) {
      versions.onClosed(policyFiles::release);
    }
    this.progressEvery = progressEvery;
    this.info = info;
    this.parallel = parallel;
    this.runner = runner;
    this.token = token;
    this.batchRows = runner.batchRows();
    java.util.concurrent.ThreadFactory threads =
        r -> {
          Thread t = new Thread(r, "decode-" + info.workerId());
          t.setDaemon(true);
          return t;
        };
    // A batching runner's run() only waits for the shared loop: one cheap thread per shard.
    this.decodeThreads =
        batchRows > 0
            ? Executors.newCachedThreadPool(threads)
            : Executors.newFixedThreadPool(parallel, threads);
    this.samples = metrics.counter("quasiroll_worker_samples", "model", info.model());
    this.tokens = metrics.counter("quasiroll_worker_tokens", "model", info.model());
    this.shardLatency = metrics.timer("quasiroll_worker_shard_latency", "model", info.model());
    this.queueDepth = gaugeValue(metrics, "quasiroll_worker_queue_depth");
    this.registered = gaugeValue(metrics, "quasiroll_worker_registered");
    queueDepth.set(0);
    registered.set(0);
    ctx.getSystem().receptionist().tell(Receptionist.register(ClusterKeys.WORKERS, ctx.getSelf()));
    ctx.getSystem()
        .receptionist()
        .tell(
            Receptionist.subscribe(
                ClusterKeys.JOB_MANAGER,
                ctx.messageAdapter(Receptionist.Listing.class, JobManagersChanged::new)));
  }

  /** Gauge values per registry: an agent of a rejoined worker reuses its predecessor's gauges. */
  private static final java.util.Map<MeterRegistry, java.util.Map<String, AtomicInteger>> GAUGES =
      java.util.Collections.synchronizedMap(new java.util.WeakHashMap<>());

  private static AtomicInteger gaugeValue(MeterRegistry metrics, String name) {
    return GAUGES
        .computeIfAbsent(metrics, r -> new ConcurrentHashMap<>())
        .computeIfAbsent(name, n -> metrics.gauge(n, new AtomicInteger()));
  }

  @Override
  public Receive<ToWorker> createReceive() {
    return newReceiveBuilder()
        .onMessage(JobManagersChanged.class, this::onJobManagersChanged)
        .onMessage(JobManagerGone.class, m -> onJobManagerGone())
        .onMessage(Welcome.class, this::onWelcome)
        .onMessage(AssignShard.class, this::onAssignShard)
        .onMessage(CancelJobWork.class, this::onCancelJobWork)
        .onMessage(DecodeSlotFreed.class, this::onDecodeSlotFreed)
        .onMessage(ToWorker.LoadPolicy.class, this::onLoadPolicy)
        .onMessage(ToWorker.AbortOlderVersions.class, this::onAbortOlderVersions)
        .onSignal(PostStop.class, s -> onStop())
        .build();
  }

  private Behavior<ToWorker> onJobManagersChanged(JobManagersChanged m) {
    Set<ActorRef<ToCoordinator>> refs = m.listing().getServiceInstances(ClusterKeys.JOB_MANAGER);
    if (refs.isEmpty() || refs.contains(jobManager)) {
      return this;
    }
    jobManager = refs.iterator().next();
    getContext().watchWith(jobManager, new JobManagerGone());
    getContext().getLog().info("registering with job manager {}", jobManager.path());
    jobManager.tell(new RegisterWorker(info, getContext().getSelf(), nodeUid()));
    return this;
  }

  /** The uid of this worker's cluster node (its incarnation), or 0 outside a cluster. */
  private long nodeUid() {
    if (!"cluster"
        .equals(getContext().getSystem().settings().config().getString("pekko.actor.provider"))) {
      return 0L;
    }
    return org.apache.pekko.cluster.typed.Cluster.get(getContext().getSystem())
        .selfMember()
        .uniqueAddress()
        .longUid();
  }

  private Behavior<ToWorker> onJobManagerGone() {
    getContext().getLog().warn("job manager left; waiting for a new one");
    jobManager = null;
    registered.set(0);
    return this;
  }

  private Behavior<ToWorker> onWelcome(Welcome m) {
    if (dataPlane == null || !m.dataPlaneAddress().equals(dataPlaneAddress)) {
      if (dataPlane != null) {
        dataPlane.close();
      }
      dataPlaneAddress = m.dataPlaneAddress();
      dataPlane = new DataPlaneClient(dataPlaneAddress, info.workerId(), token, tls);
    }
    dataPlane.ensureOpen();
    registered.set(1);
    outstanding = 0; // a (re)registration starts with no credits at the job manager
    requestWork();
    return this;
  }

  private Behavior<ToWorker> onAssignShard(AssignShard m) {
    queued.add(m.task());
    int n = m.task().indices().length;
    queuedSamples += n;
    outstanding = Math.max(0, outstanding - 1);
    assignedShards++;
    assignedSamples += n;
    startQueued();
    requestWork();
    return this;
  }

  private Behavior<ToWorker> onCancelJobWork(CancelJobWork m) {
    cancelledJobs.add(m.jobId());
    int dropped = 0;
    for (var it = queued.iterator(); it.hasNext(); ) {
      ShardTask t = it.next();
      if (t.jobId().equals(m.jobId())) {
        it.remove();
        queuedSamples -= t.indices().length;
        dropped++;
      }
    }
    queueDepth.set(queued.size());
    if (dropped > 0) {
      requestWork();
    }
    return this;
  }

  private Behavior<ToWorker> onLoadPolicy(ToWorker.LoadPolicy m) {
    ActorRef<ToCoordinator> replyTo = jobManager;
    DataPlaneClient dataPlaneForFetch = dataPlane;
    policyLoader.execute(
        () -> {
          long start = System.nanoTime();
          String error = "";
          long[] loaded = {0};
          if (!(runner instanceof PolicyVersions versions)) {
            error =
                "model '"
                    + info.model()
                    + "' has no weight files to replace (synthetic and loadtest"
                    + " models cannot take a published policy)";
          } else if (!m.modelId().equals(info.model())) {
            error = "this worker serves model '" + info.model() + "', not '" + m.modelId() + "'";
          } else {
            try {
              java.util.Map<String, java.nio.file.Path> manifest = new java.util.LinkedHashMap<>();
              for (int i = 0; i < m.tensorNames().length; i++) {
                manifest.put(m.tensorNames()[i], java.nio.file.Path.of(m.tensorFiles()[i]));
              }
              Set<Long> keep = new java.util.HashSet<>();
              for (long v : m.keep()) {
                keep.add(v);
              }
              DataPlaneClient plane = dataPlaneForFetch;
              java.util.Map<String, java.nio.file.Path> local =
                  policyFiles.localize(
                      m.version(),
                      manifest,
                      path -> {
                        if (plane == null) {
                          throw new PolicyFiles.PolicyFetchException(
                              "policy file "
                                  + path
                                  + " must be fetched but this worker has no data plane"
                                  + " connection to the coordinator yet");
                        }
                        return plane.fetchPolicyFile(path);
                      });
              try {
                versions.load(
                    m.version(), local, java.util.List.of(m.changed()), m.partial(), keep);
              } catch (RuntimeException e) {
                if (!versions.loaded().contains(m.version())) {
                  policyFiles.release(m.version());
                }
                throw e;
              }
            } catch (RuntimeException e) {
              org.slf4j.LoggerFactory.getLogger(WorkerAgent.class)
                  .warn("policy version {} refused: {}", m.version(), e.getMessage());
              error = e.getMessage() == null ? e.toString() : e.getMessage();
            }
            loaded = versions.loaded().stream().mapToLong(Long::longValue).toArray();
          }
          if (replyTo != null) {
            replyTo.tell(
                new ToCoordinator.PolicyLoaded(
                    info.workerId(),
                    m.modelId(),
                    m.version(),
                    loaded,
                    error,
                    System.nanoTime() - start));
          }
        });
    return this;
  }

  private Behavior<ToWorker> onAbortOlderVersions(ToWorker.AbortOlderVersions m) {
    if (m.modelId().equals(info.model())) {
      abortBelow.accumulateAndGet(m.version(), Math::max);
    }
    return this;
  }

  private Behavior<ToWorker> onDecodeSlotFreed(DecodeSlotFreed m) {
    running--;
    runningSamples -= m.samples();
    startQueued();
    requestWork();
    return this;
  }

  /**
   * Grants the job manager the credits that keep this worker busy: free decode slots plus {@link
   * #PREFETCH} shards, or, for a batching runner, enough shards (at the average size assigned so
   * far, else the capacity) to hold the batch rows plus one shard.
   */
  private void requestWork() {
    if (jobManager == null || registered.get() == 0) {
      return;
    }
    int want;
    if (batchRows == 0) {
      want = parallel + PREFETCH - running - queued.size() - outstanding;
    } else {
      int shard =
          assignedShards == 0
              ? info.capacity()
              : (int) Math.max(1, Math.min(info.capacity(), assignedSamples / assignedShards));
      long held = (long) runningSamples + queuedSamples + (long) outstanding * shard;
      long target = (long) batchRows + shard;
      want = held >= target ? 0 : (int) Math.min(1024, (target - held + shard - 1) / shard);
      if (running + queued.size() + outstanding == 0) {
        want = Math.max(want, 1);
      }
    }
    if (want > 0) {
      outstanding += want;
      jobManager.tell(new RequestWork(info.workerId(), want));
    }
  }

  private void startQueued() {
    while ((batchRows > 0 || running < parallel) && !queued.isEmpty()) {
      ShardTask task = queued.poll();
      running++;
      queuedSamples -= task.indices().length;
      runningSamples += task.indices().length;
      ActorRef<ToWorker> self = getContext().getSelf();
      DataPlaneClient plane = dataPlane;
      decodeThreads.execute(
          () -> {
            try {
              runShard(task, plane);
            } finally {
              self.tell(new DecodeSlotFreed(task.shardId(), task.indices().length));
            }
          });
    }
    queueDepth.set(queued.size());
  }

  /** Runs on a decode thread. */
  private void runShard(ShardTask task, DataPlaneClient plane) {
    MDC.put("job", task.jobId());
    MDC.put("shard", task.shardId());
    long start = System.nanoTime();
    int[] sent = {0};
    String error = "";
    ResultBatch.Builder batch = ResultBatch.newBuilder();
    boolean permanent = false;
    try {
      plane.ensureOpen();
      ProgressSink progress =
          !task.decode().getStreamProgress()
              ? null
              : new ProgressSink(
                  p -> {
                    try {
                      plane.send(
                          WorkerMessage.newBuilder()
                              .setWorkerId(info.workerId())
                              .setShardId(task.shardId())
                              .setProgress(p)
                              .build());
                    } catch (InterruptedException e) {
                      Thread.currentThread().interrupt();
                      throw new DataPlaneClient.BrokenException("interrupted while sending");
                    }
                  },
                  progressEvery.everyTokens(),
                  progressEvery.everyMs());
      runner.run(
          ResolvedShard.of(task),
          r -> {
            // Hashes are computed here, on the worker, never by the coordinator.
            batch.addResults(
                SampleHashes.ensure(r.toBuilder().setWorkerId(info.workerId()).build()));
            sent[0]++;
            samples.increment();
            tokens.increment(r.getTokenIdsCount());
            if (batch.getResultsCount() >= RESULT_BATCH) {
              sendBatch(plane, task, batch);
            }
          },
          progress,
          () -> cancelledJobs.contains(task.jobId()),
          () -> task.policyVersion() < abortBelow.get());
    } catch (DataPlaneClient.BrokenException e) {
      // The coordinator saw the stream end and re-queued this shard; nothing to report.
      org.slf4j.LoggerFactory.getLogger(WorkerAgent.class)
          .warn("shard abandoned: {}", e.getMessage());
      return;
    } catch (BadInputException e) {
      // Bad input fails the same way on every worker: the coordinator fails the job after a
      // few attempts instead of re-queueing it forever. Logged once, without a stack trace.
      org.slf4j.LoggerFactory.getLogger(WorkerAgent.class)
          .warn("shard refused: {}", e.getMessage());
      error = e.getMessage();
      permanent = true;
    } catch (RuntimeException | OutOfMemoryError | StackOverflowError e) {
      org.slf4j.LoggerFactory.getLogger(WorkerAgent.class).error("shard failed", e);
      error = e.getClass().getSimpleName() + ": " + e.getMessage();
    } finally {
      shardLatency.record(System.nanoTime() - start, java.util.concurrent.TimeUnit.NANOSECONDS);
      MDC.remove("job");
      MDC.remove("shard");
    }
    try {
      batch.setDone(
          ShardDone.newBuilder().setSamples(sent[0]).setError(error).setPermanent(permanent));
      sendBatch(plane, task, batch);
    } catch (DataPlaneClient.BrokenException e) {
      // As above: the coordinator re-queues whatever it did not receive.
    }
  }

  /** Sends the batch's results (and its shard end, when set) as one message; clears it. */
  private void sendBatch(DataPlaneClient plane, ShardTask task, ResultBatch.Builder batch) {
    try {
      if (RESULT_BATCH == 1) {
        for (var r : batch.getResultsList()) {
          plane.send(
              WorkerMessage.newBuilder()
                  .setWorkerId(info.workerId())
                  .setShardId(task.shardId())
                  .setResult(r)
                  .build());
        }
        if (batch.hasDone()) {
          plane.send(
              WorkerMessage.newBuilder()
                  .setWorkerId(info.workerId())
                  .setShardId(task.shardId())
                  .setDone(batch.getDone())
                  .build());
        }
        batch.clear();
        return;
      }
      plane.send(
          WorkerMessage.newBuilder()
              .setWorkerId(info.workerId())
              .setShardId(task.shardId())
              .setBatch(batch.build())
              .build());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new DataPlaneClient.BrokenException("interrupted while sending");
    }
    batch.clear();
  }

  private Behavior<ToWorker> onStop() {
    registered.set(0);
    decodeThreads.shutdownNow();
    policyLoader.shutdownNow();
    if (dataPlane != null) {
      dataPlane.close();
    }
    return this;
  }
}
