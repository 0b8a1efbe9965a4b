package quasiroll.coordinator.job;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
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

  public static Behavior<ToCoordinator> create(
      JobEventLogs logs, String dataPlaneAddress, MeterRegistry metrics) {
    return Behaviors.setup(ctx -> new JobManager(ctx, logs, dataPlaneAddress, metrics));
  }

  // ------------------------------------------------------------------ state

  private static final class WorkerState {
    WorkerInfo info;
    ActorRef<ToWorker> agent;
    int credits;
    boolean planeOpen;
    final Set<String> inFlight = new HashSet<>();
  }

  private static final class InFlight {
    final ShardScheduler.Shard shard;
    final String workerId;
    final long startNanos = System.nanoTime();
    int accepted;
    int duplicates;

    InFlight(ShardScheduler.Shard shard, String workerId) {
      this.shard = shard;
      this.workerId = workerId;
    }
  }

  private final JobEventLogs logs;
  private final String dataPlaneAddress;
  private final Map<String, Job> jobs = new LinkedHashMap<>();
  /**
   * The jobs not yet known to be final, so that the gauges cost O(active jobs) per message,
   * not O(every job since the start): with one job per HTTP request the full scan was the
   * coordinator's hottest method and grew without bound. Finished jobs are pruned lazily.
   */
  private final Set<Job> activeSet = new LinkedHashSet<>();
  private final Map<String, WorkerState> workers = new LinkedHashMap<>();
  private final Map<String, InFlight> inFlight = new HashMap<>();
  private final ShardScheduler scheduler = new ShardScheduler();
  private final String idPrefix = "j" + Long.toString(System.currentTimeMillis(), 36) + "-";
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
      ActorContext<ToCoordinator> ctx, JobEventLogs logs, String dataPlaneAddress, MeterRegistry m) {
    super(ctx);
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
        .build();
  }

  // ------------------------------------------------------------------ clients

  private Behavior<ToCoordinator> onSubmit(Submit m) {
    String id = idPrefix + (nextJob++);
    Job job = new Job(id, m.job(), logs.create(id), System.currentTimeMillis());
    jobs.put(id, job);
    activeSet.add(job);
    scheduler.addJob(id, m.job().spec().getModel(), job.promptCount(), Job.firstIndex(m.job()), Job.indexCount(m.job()));
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
    Job.Outcome outcome = job.accept(m.result(), System.currentTimeMillis());
    switch (outcome) {
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

  // ------------------------------------------------------------------ scheduling

  /** Hands queued shards to workers with credits and an open data plane. */
  private void dispatch() {
    for (WorkerState w : workers.values()) {
      if (!w.planeOpen) {
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
    ShardTask task =
        new ShardTask(
            s.shardId(),
            job.id,
            p.getId(),
            p.getText(),
            p.getTokenIdsList().stream().mapToInt(Integer::intValue).toArray(),
            spec.getK(),
            s.indices(),
            spec.getSampler(),
            spec.getDecode(),
            spec.getSeed());
    w.agent.tell(new AssignShard(task));
    w.credits--;
    w.inFlight.add(s.shardId());
    inFlight.put(s.shardId(), new InFlight(s, w.info.workerId()));
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
    activeSet.removeIf(j -> !j.active());
    activeJobs.set(activeSet.size());
  }
}
