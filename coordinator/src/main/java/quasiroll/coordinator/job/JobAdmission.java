package quasiroll.coordinator.job;

import java.util.List;
import java.util.Optional;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import quasiroll.cluster.wire.ToCoordinator;
import quasiroll.coordinator.events.JobEventLog;
import quasiroll.coordinator.events.JobEventLogs;
import quasiroll.coordinator.policy.PolicyStore;
import quasiroll.coordinator.sink.JsonlSink;
import quasiroll.coordinator.store.JobStore;
import quasiroll.v1.JobSpec;
import quasiroll.v1.JobStatus;
import quasiroll.v1.Prompt;

/**
 * Jobs coming in and clients asking about them. A submitted job is refused outright when its
 * prompts' token ids do not fit the model's vocabulary or its sink cannot be created; otherwise it
 * is stored (durable before the client hears its id) and queued. A job pinned to a policy version
 * that was never published or is no longer served is refused too (INVALID_ARGUMENT at the API);
 * GROW with a sampler whose groups cannot grow is refused earlier, by {@link JobSpecValidator}.
 * Also cancel and status, including of jobs finished before this coordinator started (served from
 * the store).
 */
final class JobAdmission {
  private final ActorContext<ToCoordinator> ctx;
  private final JobEventLogs logs;
  private final JobStore store;
  private final PolicyStore policies;
  private final JobTable jobs;
  private final WorkerRegistry workers;
  private final ServedVersions versions;
  private final ShardScheduler scheduler;
  private final ShardDispatcher dispatcher;
  private final JobFinisher finisher;
  private final JobPersistence persistence;

  JobAdmission(
      ActorContext<ToCoordinator> ctx,
      JobEventLogs logs,
      PolicyStore policies,
      JobTable jobs,
      WorkerRegistry workers,
      ServedVersions versions,
      ShardScheduler scheduler,
      ShardDispatcher dispatcher,
      JobFinisher finisher,
      JobPersistence persistence) {
    this.ctx = ctx;
    this.logs = logs;
    this.store = persistence.store();
    this.policies = policies;
    this.jobs = jobs;
    this.workers = workers;
    this.versions = versions;
    this.scheduler = scheduler;
    this.dispatcher = dispatcher;
    this.finisher = finisher;
    this.persistence = persistence;
  }

  /**
   * Why a job pinned to an exact policy version cannot run, or null: the version was never
   * published, or it is no longer served (workers keep only the newest and the pinned ones; its
   * files may be collected). Version 0, the start-up weights, is always served.
   */
  private String versionProblem(JobSpec spec) {
    if (!spec.hasPolicyVersion() || spec.getPolicyVersion() == 0) {
      return null;
    }
    long n = spec.getPolicyVersion();
    String model = spec.getModel();
    long latest = versions.latest(model);
    if (n > latest) {
      return "policy_version "
          + n
          + " of model '"
          + model
          + "' is invalid: it was never published (the newest is "
          + latest
          + ")";
    }
    java.util.Set<Long> kept = versions.kept(model);
    if (policies == null || policies.version(model, n) == null || !kept.contains(n)) {
      return "policy_version "
          + n
          + " of model '"
          + model
          + "' is invalid: it is no longer served (served versions: "
          + new java.util.TreeSet<>(kept)
          + "; the newest is "
          + latest
          + ")";
    }
    return null;
  }

  void onSubmit(JobManager.Submit m) {
    String model = m.job().spec().getModel();
    Integer vocab = workers.vocabulary(model);
    String tokenProblem = vocab == null ? null : tokenProblem(m.job(), model, vocab);
    if (tokenProblem != null) {
      m.replyTo().tell(new JobManager.Submitted(null, tokenProblem));
      return;
    }
    String versionProblem = versionProblem(m.job().spec());
    if (versionProblem != null) {
      m.replyTo().tell(new JobManager.Submitted(null, versionProblem));
      return;
    }
    String id = JobIds.next();
    JsonlSink sink = null;
    if (m.job().jsonlPath() != null) {
      try {
        sink = JsonlSink.create(m.job().jsonlPath());
      } catch (JsonlSink.SinkException e) {
        m.replyTo().tell(new JobManager.Submitted(null, e.getMessage()));
        return;
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
    Job job =
        new Job(
            id,
            m.job(),
            logs.create(id, m.owner()),
            sink,
            persistence.sinks().executor(),
            persistence.sinks().outcomesOf(id),
            now);
    jobs.add(job);
    scheduler.addJob(
        id,
        m.job().spec().getModel(),
        job.initialPrompts(),
        Job.firstIndex(m.job()),
        Job.indexCount(m.job()));
    org.slf4j.Logger log = ctx.getLog();
    (Job.logsQuietly(m.job().spec()) ? log.atDebug() : log.atInfo())
        .log(
            "job {} queued: {} prompts x k={} on model '{}'",
            id,
            job.promptCount(),
            m.job().spec().getK(),
            m.job().spec().getModel());
    // The reply follows the commit of everything staged: durable before the client hears its id.
    persistence.commitThen(() -> m.replyTo().tell(new JobManager.Submitted(id, null)));
    dispatcher.dispatch();
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

  /** A worker reported {@code model}'s vocabulary: active jobs whose token ids exceed it fail. */
  void failJobsOutsideVocabulary(String model, int vocab) {
    for (Job job : List.copyOf(jobs.all())) {
      if (job.active()
          && job.def.spec().getModel().equals(model)
          && job.maxPromptTokenId() >= vocab) {
        finisher.failJob(job, tokenProblem(job.def, model, vocab));
      }
    }
  }

  void onCancel(JobManager.Cancel m) {
    Job job = jobs.get(m.jobId());
    if (job == null) {
      m.replyTo().tell(storedStatus(m.jobId())); // finished before this coordinator started
      return;
    }
    if (job.active()) {
      job.cancel(System.currentTimeMillis());
      finisher.jobEnded(job);
    }
    Optional<JobStatus> status = Optional.of(job.status());
    persistence.commitThen(() -> m.replyTo().tell(status));
  }

  void onGetStatus(JobManager.GetStatus m) {
    Job job = jobs.get(m.jobId());
    if (job == null) {
      m.replyTo().tell(storedStatus(m.jobId()));
    } else if (!job.active()) {
      // A final status is reported only once it is committed (and its events visible).
      Optional<JobStatus> status = Optional.of(job.status());
      persistence.commitThen(() -> m.replyTo().tell(status));
    } else {
      m.replyTo().tell(Optional.of(job.status()));
    }
  }

  /** The last status of a job finished before this coordinator started (from the store). */
  private Optional<JobStatus> storedStatus(String jobId) {
    // A finished job's last event is its final status.
    return logs.get(jobId)
        .map(JobEventLog::last)
        .filter(quasiroll.v1.JobEvent::hasStatus)
        .map(quasiroll.v1.JobEvent::getStatus);
  }
}
