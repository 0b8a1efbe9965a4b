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
import quasiroll.common.error.BadInputException;
import quasiroll.v1.ShardDone;
import quasiroll.v1.WorkerMessage;
import quasiroll.cluster.wire.ToWorker.AssignShard;
import quasiroll.cluster.wire.ToWorker.CancelJobWork;
import quasiroll.cluster.ClusterKeys;
import quasiroll.cluster.SampleHashes;
import quasiroll.cluster.wire.ToCoordinator;
import quasiroll.cluster.wire.ToCoordinator.RegisterWorker;
import quasiroll.cluster.wire.ToCoordinator.RequestWork;
import quasiroll.cluster.wire.ShardTask;
import quasiroll.cluster.wire.ToWorker.Welcome;
import quasiroll.cluster.wire.ToWorker;
import quasiroll.cluster.wire.WorkerInfo;
import quasiroll.worker.engine.ResolvedShard;
import quasiroll.worker.engine.ProgressSink;
import quasiroll.worker.engine.ShardRunner;
import quasiroll.worker.policy.PolicyVersions;
import quasiroll.cluster.TlsFiles;

/**
 * A worker node's agent: finds the job manager through the Receptionist, registers the
 * worker (model, device, capacity), PULLS shards by granting credits (one per free slot plus
 * one prefetched shard, so the decode loop never waits on a round trip), runs them on its
 * decode threads and streams every sample to the coordinator's gRPC data plane.
 *
 * <p>Owns: the local shard queue, the decode threads, the cancelled-jobs set the decode loop
 * polls, the data plane stream. Does NOT own: which shard runs where (the job manager
 * decides), deduplication or retries (the coordinator re-queues a lost shard; every sample
 * is a pure function of its key, so a re-run is identical).
 */
public final class WorkerAgent extends AbstractBehavior<ToWorker> {
  /** How often a streaming job's unfinished samples report progress (quasiroll.worker.progress-*). */
  private static final int PROGRESS_EVERY_TOKENS =
      quasiroll.common.config.QuasirollConfig.load(null).getInt("quasiroll.worker.progress-every-tokens");
  private static final long PROGRESS_EVERY_MS =
      quasiroll.common.config.QuasirollConfig.load(null).getDuration("quasiroll.worker.progress-every",
          java.util.concurrent.TimeUnit.MILLISECONDS);


  // ------------------------------------------------------------------ protocol (local)

  /** The Receptionist's view of the job manager changed. */
  private record JobManagersChanged(Receptionist.Listing listing) implements ToWorker.Local {}

  /** The job manager we registered with died (its node left the cluster). */
  private record JobManagerGone() implements ToWorker.Local {}

  /** A decode thread finished (or abandoned) a shard; its slot is free again. */
  private record DecodeSlotFreed(String shardId) implements ToWorker.Local {}

  /** Shards held beyond the decode threads: ready to start the moment one frees up. */
  static final int PREFETCH = 1;

  public static Behavior<ToWorker> create(
      WorkerInfo info, int parallel, ShardRunner runner, String token, MeterRegistry metrics) {
    return create(info, parallel, runner, token, null, metrics);
  }

  /** @param tls the data plane's TLS material (mutual TLS with the node certificate), or null */
  public static Behavior<ToWorker> create(
      WorkerInfo info, int parallel, ShardRunner runner, String token, TlsFiles tls, MeterRegistry metrics) {
    return Behaviors.setup(ctx -> new WorkerAgent(ctx, info, parallel, runner, token, tls, metrics));
  }

  private final WorkerInfo info;
  private final int parallel;
  private final ShardRunner runner;
  private final String token;
  private final TlsFiles tls;
  private final ExecutorService decodeThreads;
  private final ArrayDeque<ShardTask> queued = new ArrayDeque<>();
  private final Set<String> cancelledJobs = ConcurrentHashMap.newKeySet();
  /** Running shards on a policy version below this stop at their next step (abort mode). */
  private final java.util.concurrent.atomic.AtomicLong abortBelow = new java.util.concurrent.atomic.AtomicLong();
  /** Loads policy versions one at a time, off the actor and the decode threads. */
  private final ExecutorService policyLoader = Executors.newSingleThreadExecutor(r -> {
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

  private WorkerAgent(
      ActorContext<ToWorker> ctx,
      WorkerInfo info,
      int parallel,
      ShardRunner runner,
      String token,
      TlsFiles tls,
      MeterRegistry metrics) {
    super(ctx);
    this.tls = tls;
    this.info = info;
    this.parallel = parallel;
    this.runner = runner;
    this.token = token;
    this.decodeThreads =
        Executors.newFixedThreadPool(
            parallel,
            r -> {
              Thread t = new Thread(r, "decode-" + info.workerId());
              t.setDaemon(true);
              return t;
            });
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
    return GAUGES.computeIfAbsent(metrics, r -> new ConcurrentHashMap<>())
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
    jobManager.tell(new RegisterWorker(info, getContext().getSelf()));
    return this;
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
    int free = parallel + PREFETCH - running - queued.size();
    if (free > 0 && jobManager != null) {
      jobManager.tell(new RequestWork(info.workerId(), free));
    }
    return this;
  }

  private Behavior<ToWorker> onAssignShard(AssignShard m) {
    queued.add(m.task());
    startQueued();
    return this;
  }

  private Behavior<ToWorker> onCancelJobWork(CancelJobWork m) {
    cancelledJobs.add(m.jobId());
    int dropped = 0;
    for (var it = queued.iterator(); it.hasNext(); ) {
      if (it.next().jobId().equals(m.jobId())) {
        it.remove();
        dropped++;
      }
    }
    queueDepth.set(queued.size());
    if (dropped > 0 && jobManager != null) {
      jobManager.tell(new RequestWork(info.workerId(), dropped));
    }
    return this;
  }

  private Behavior<ToWorker> onLoadPolicy(ToWorker.LoadPolicy m) {
    ActorRef<ToCoordinator> replyTo = jobManager;
    policyLoader.execute(() -> {
      long start = System.nanoTime();
      String error = "";
      long[] loaded = {0};
      if (!(runner instanceof PolicyVersions versions)) {
        error = "model '" + info.model() + "' has no weight files to replace (synthetic and loadtest"
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
          versions.load(m.version(), manifest, java.util.List.of(m.changed()), m.partial(), keep);
        } catch (RuntimeException e) {
          org.slf4j.LoggerFactory.getLogger(WorkerAgent.class).warn("policy version {} refused: {}",
              m.version(), e.getMessage());
          error = e.getMessage() == null ? e.toString() : e.getMessage();
        }
        loaded = versions.loaded().stream().mapToLong(Long::longValue).toArray();
      }
      if (replyTo != null) {
        replyTo.tell(new ToCoordinator.PolicyLoaded(info.workerId(), m.modelId(), m.version(), loaded, error,
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
    if (jobManager != null) {
      jobManager.tell(new RequestWork(info.workerId(), 1));
    }
    startQueued();
    return this;
  }

  private void startQueued() {
    while (running < parallel && !queued.isEmpty()) {
      ShardTask task = queued.poll();
      running++;
      ActorRef<ToWorker> self = getContext().getSelf();
      DataPlaneClient plane = dataPlane;
      decodeThreads.execute(
          () -> {
            try {
              runShard(task, plane);
            } finally {
              self.tell(new DecodeSlotFreed(task.shardId()));
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
    boolean permanent = false;
    try {
      plane.ensureOpen();
      ProgressSink progress = !task.decode().getStreamProgress() ? null : new ProgressSink(p -> {
        try {
          plane.send(WorkerMessage.newBuilder().setWorkerId(info.workerId()).setShardId(task.shardId())
              .setProgress(p).build());
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          throw new DataPlaneClient.BrokenException("interrupted while sending");
        }
      }, PROGRESS_EVERY_TOKENS, PROGRESS_EVERY_MS);
      runner.run(
          ResolvedShard.of(task),
          r -> {
            try {
              plane.send(
                  WorkerMessage.newBuilder()
                      .setWorkerId(info.workerId())
                      .setShardId(task.shardId())
                      .setResult(SampleHashes.ensure(r.toBuilder().setWorkerId(info.workerId()).build()))
                      .build());
            } catch (InterruptedException e) {
              Thread.currentThread().interrupt();
              throw new DataPlaneClient.BrokenException("interrupted while sending");
            }
            sent[0]++;
            samples.increment();
            tokens.increment(r.getTokenIdsCount());
          },
          progress,
          () -> cancelledJobs.contains(task.jobId()),
          () -> task.policyVersion() < abortBelow.get());
    } catch (DataPlaneClient.BrokenException e) {
      // The coordinator saw the stream end and re-queued this shard; nothing to report.
      org.slf4j.LoggerFactory.getLogger(WorkerAgent.class).warn("shard abandoned: {}", e.getMessage());
      return;
    } catch (BadInputException e) {
      // Bad input fails the same way on every worker: the coordinator fails the job after a
      // few attempts instead of re-queueing it forever. Logged once, without a stack trace.
      org.slf4j.LoggerFactory.getLogger(WorkerAgent.class).warn("shard refused: {}", e.getMessage());
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
      plane.send(
          WorkerMessage.newBuilder()
              .setWorkerId(info.workerId())
              .setShardId(task.shardId())
              .setDone(ShardDone.newBuilder().setSamples(sent[0]).setError(error).setPermanent(permanent))
              .build());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (DataPlaneClient.BrokenException e) {
      // As above: the coordinator re-queues whatever it did not receive.
    }
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
