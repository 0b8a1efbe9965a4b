package quasiroll.coordinator.job;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import quasiroll.coordinator.events.JobEventLog;
import quasiroll.coordinator.sink.JsonlSink;
import quasiroll.v1.GroupSummary;
import quasiroll.v1.JobEvent;
import quasiroll.v1.JobState;
import quasiroll.v1.JobStatus;
import quasiroll.v1.NoiseKey;
import quasiroll.v1.Prompt;
import quasiroll.v1.SampleResult;

/**
 * One job's results and progress: its prompt groups, counters, state, event log and file
 * sink. Every accepted sample is scored (if its prompt has a verifier) and published; a
 * group's summary follows its k-th sample; the job succeeds when every group is complete.
 *
 * <p>Owns what has arrived. Does NOT own what is running where (the job manager and the
 * shard scheduler do) — it answers which indices of a shard are still missing.
 */
final class Job {
  private static final Logger log = LoggerFactory.getLogger(Job.class);

  enum Outcome { ACCEPTED, DUPLICATE, VIOLATION, REJECTED, INACTIVE }

  final String id;
  final ValidatedJob def;
  final JobEventLog events;
  private final PromptGroup[] groups;
  private final Map<String, Integer> promptIndex = new HashMap<>();
  private final JsonlSink sink;
  private JobState state = JobState.JOB_STATE_QUEUED;
  private String waitingReason = "";
  private String error = "";
  private int promptsDone;
  private long samplesDone;
  private long tokens;
  private long requeued;
  private long duplicates;
  private long violations;
  private final long submittedMs;
  private long finishedMs;

  Job(String id, ValidatedJob def, JobEventLog events, long nowMs) {
    this.id = id;
    this.def = def;
    this.events = events;
    this.submittedMs = nowMs;
    List<Prompt> prompts = def.prompts();
    this.groups = new PromptGroup[prompts.size()];
    for (int i = 0; i < groups.length; i++) {
      groups[i] = new PromptGroup(prompts.get(i), def.verifiers().get(i), def.spec().getK(), firstIndex(def), indexCount(def));
      promptIndex.put(prompts.get(i).getId(), i);
    }
    this.sink = def.jsonlPath() == null ? null : new JsonlSink(def.jsonlPath());
    publishStatus();
  }

  /** First sample index a job runs per prompt (JobSpec.index_offset). */
  static int firstIndex(ValidatedJob def) {
    return def.spec().getIndexOffset();
  }

  /** Samples a job runs per prompt: index_count, or all of k from index_offset when 0. */
  static int indexCount(ValidatedJob def) {
    int c = def.spec().getIndexCount();
    return c == 0 ? def.spec().getK() - def.spec().getIndexOffset() : c;
  }

  int promptCount() {
    return groups.length;
  }

  Prompt prompt(int i) {
    return groups[i].prompt;
  }

  boolean active() {
    return !JobEventLog.isFinal(state);
  }

  JobState state() {
    return state;
  }

  /** Scores, dedupes and publishes one result. */
  Outcome accept(SampleResult r, long nowMs) {
    if (!active()) {
      return Outcome.INACTIVE;
    }
    Integer p = promptIndex.get(r.getPromptId());
    if (p == null || r.getIndex() < groups[p].first || r.getIndex() >= groups[p].first + groups[p].count) {
      log.warn("result for unknown key ({}, {}) dropped", r.getPromptId(), r.getIndex());
      return Outcome.REJECTED;
    }
    PromptGroup g = groups[p];
    SampleResult scored = score(g, r);
    switch (g.offer(scored)) {
      case DUPLICATE -> {
        duplicates++;
        return Outcome.DUPLICATE;
      }
      case VIOLATION -> {
        duplicates++;
        violations++;
        log.error("determinism violation: job {} prompt '{}' index {} arrived twice with different content",
            id, r.getPromptId(), r.getIndex());
        return Outcome.VIOLATION;
      }
      default -> {}
    }
    samplesDone++;
    tokens += r.getTokenIdsCount();
    events.append(JobEvent.newBuilder().setSample(scored));
    if (g.complete()) {
      List<SampleResult> byIndex = g.byIndex();
      GroupSummary summary = GroupStatistics.summarize(id, g.prompt.getId(), byIndex);
      if (sink != null) {
        sink.writeGroup(byIndex);
      }
      g.release();
      promptsDone++;
      events.append(JobEvent.newBuilder().setGroup(summary));
      if (promptsDone == groups.length) {
        finish(JobState.JOB_STATE_SUCCEEDED, "", nowMs);
      }
    }
    return Outcome.ACCEPTED;
  }

  private SampleResult score(PromptGroup g, SampleResult r) {
    SampleResult.Builder b = r.toBuilder().setJobId(id);
    if (!r.hasNoiseKey()) {
      b.setNoiseKey(NoiseKey.newBuilder().setPromptId(r.getPromptId()).setIndex(r.getIndex()).setK(g.k));
    }
    if (g.verifier != null) {
      double reward;
      try {
        reward = g.verifier.reward(r.getText());
      } catch (RuntimeException e) {
        log.warn("verifier failed on prompt '{}' index {}: {}", r.getPromptId(), r.getIndex(), e.toString());
        reward = 0.0;
      }
      b.setReward(reward);
    }
    return b.build();
  }

  /** Publishes an unfinished sample's progress, unless the sample is already in (or unknown). */
  void progress(quasiroll.v1.SampleProgress p) {
    Integer i = promptIndex.get(p.getPromptId());
    if (!active() || i == null || p.getIndex() < groups[i].first || p.getIndex() >= groups[i].first + groups[i].count
        || groups[i].missing(new int[] {p.getIndex()}).length == 0) {
      return;
    }
    events.append(JobEvent.newBuilder().setProgress(p));
  }

  /** Indices of {@code indices} (of prompt {@code p}) that have no result yet. */
  int[] missing(int p, int[] indices) {
    return groups[p].missing(indices);
  }

  void markRunning() {
    if (state == JobState.JOB_STATE_QUEUED) {
      state = JobState.JOB_STATE_RUNNING;
      publishStatus();
    }
  }

  void countRequeued() {
    requeued++;
  }

  /** Sets the waiting reason ("" when progressing), publishing a status event on change. */
  void setWaitingReason(String reason) {
    if (active() && !reason.equals(waitingReason)) {
      waitingReason = reason;
      publishStatus();
    }
  }

  void cancel(long nowMs) {
    if (active()) {
      finish(JobState.JOB_STATE_CANCELLED, "", nowMs);
    }
  }

  void fail(String why, long nowMs) {
    if (active()) {
      finish(JobState.JOB_STATE_FAILED, why, nowMs);
    }
  }

  private void finish(JobState s, String why, long nowMs) {
    state = s;
    error = why;
    waitingReason = "";
    finishedMs = nowMs;
    if (sink != null) {
      sink.close();
    }
    publishStatus();
  }

  private void publishStatus() {
    events.append(JobEvent.newBuilder().setStatus(status()));
  }

  JobStatus status() {
    return JobStatus.newBuilder()
        .setJobId(id)
        .setState(state)
        .setPromptsTotal(groups.length)
        .setPromptsDone(promptsDone)
        .setSamplesTotal((long) groups.length * indexCount(def))
        .setSamplesDone(samplesDone)
        .setTokensGenerated(tokens)
        .setWaitingReason(waitingReason)
        .setError(error)
        .setRequeuedShards(requeued)
        .setDuplicatesDropped(duplicates)
        .setDeterminismViolations(violations)
        .setSubmittedUnixMs(submittedMs)
        .setFinishedUnixMs(finishedMs)
        .build();
  }
}
