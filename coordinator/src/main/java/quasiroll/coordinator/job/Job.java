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
import quasiroll.common.task.Verifier;

/**
 * One job's results and progress: its prompt groups, counters, state, event log and file
 * sink. A result is first admitted ({@link #accept}: deduplicated), then scored by the job
 * manager (off the actor when its prompt has a verifier) and published ({@link #complete});
 * a group's summary follows its k-th sample; the job succeeds when every group is complete.
 * A failed reward or a failed sink write fails the job with the reason.
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
  private final int maxPromptTokenId;
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

  Job(String id, ValidatedJob def, JobEventLog events, JsonlSink sink, long nowMs) {
    this(id, def, events, sink, nowMs, true);
  }

  /**
   * Rebuilds a job from its committed events (a coordinator restart): every stored sample is
   * admitted and scored again without being re-published, counters come back, and a group
   * whose k samples were all stored but whose summary was not is finished now (summary and
   * sink write). Then {@link #missing} names exactly the samples never stored.
   */
  static Job resume(String id, ValidatedJob def, JobEventLog events, JsonlSink sink, long submittedMs, long nowMs) {
    Job job = new Job(id, def, events, sink, submittedMs, false);
    job.replay(events.visible(), nowMs);
    return job;
  }

  private void replay(List<JobEvent> stored, long nowMs) {
    for (JobEvent e : stored) {
      switch (e.getEventCase()) {
        case SAMPLE -> {
          SampleResult r = e.getSample();
          PromptGroup g = groups[promptIndex.get(r.getPromptId())];
          if (g.offer(r) == PromptGroup.Outcome.ACCEPTED) {
            g.scored(r);
            samplesDone++;
            tokens += r.getTokenIdsCount();
          }
        }
        case GROUP -> {
          PromptGroup g = groups[promptIndex.get(e.getGroup().getPromptId())];
          g.release();
          promptsDone++;
        }
        case STATUS -> {
          JobStatus st = e.getStatus();
          state = st.getState();
          requeued = st.getRequeuedShards();
          duplicates = st.getDuplicatesDropped();
          violations = st.getDeterminismViolations();
        }
        default -> {}
      }
    }
    if (samplesDone > 0) {
      state = JobState.JOB_STATE_RUNNING;
    }
    for (PromptGroup g : groups) {
      if (active() && g.complete() && !g.released()) {
        finishGroup(g, nowMs);
      }
    }
    if (active() && promptsDone == groups.length) {
      finish(JobState.JOB_STATE_SUCCEEDED, "", nowMs);
    }
  }

  private Job(String id, ValidatedJob def, JobEventLog events, JsonlSink sink, long nowMs, boolean publish) {
    this.id = id;
    this.def = def;
    this.events = events;
    this.submittedMs = nowMs;
    List<Prompt> prompts = def.prompts();
    this.groups = new PromptGroup[prompts.size()];
    int maxToken = -1;
    for (int i = 0; i < groups.length; i++) {
      groups[i] = new PromptGroup(prompts.get(i), def.verifiers().get(i), def.spec().getK(), firstIndex(def), indexCount(def));
      promptIndex.put(prompts.get(i).getId(), i);
      for (int t : prompts.get(i).getTokenIdsList()) {
        maxToken = Math.max(maxToken, t);
      }
    }
    this.maxPromptTokenId = maxToken;
    this.sink = sink;
    if (publish) {
      publishStatus();
    }
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

  /** The largest token id among the prompts' pre-tokenized ids, or -1 if none. */
  int maxPromptTokenId() {
    return maxPromptTokenId;
  }

  boolean active() {
    return !JobEventLog.isFinal(state);
  }

  JobState state() {
    return state;
  }

  String error() {
    return error;
  }

  /**
   * Admits one result: dedupes it by key and content hash. An ACCEPTED result must then be
   * scored ({@link #verifierOf}) and handed to {@link #complete}.
   */
  Outcome accept(SampleResult r, long nowMs) {
    if (!active()) {
      return Outcome.INACTIVE;
    }
    Integer p = promptIndex.get(r.getPromptId());
    if (p == null || r.getIndex() < groups[p].first || r.getIndex() >= groups[p].first + groups[p].count) {
      log.warn("result for unknown key ({}, {}) dropped", r.getPromptId(), r.getIndex());
      return Outcome.REJECTED;
    }
    switch (groups[p].offer(r)) {
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
    return Outcome.ACCEPTED;
  }

  /** The verifier of an admitted result's prompt, or null (no reward). */
  Verifier verifierOf(SampleResult r) {
    return groups[promptIndex.get(r.getPromptId())].verifier;
  }

  /**
   * Publishes an admitted result with its reward. A reward that could not be computed fails
   * the job (a reward is never silently 0); a complete group is summarized and written to
   * the sink, whose failure also fails the job. Does nothing once the job has ended.
   *
   * @param reward the verifier's outcome, or null when the prompt has no verifier
   */
  void complete(SampleResult r, VerifierPool.Outcome reward, long nowMs) {
    if (!active()) {
      return;
    }
    PromptGroup g = groups[promptIndex.get(r.getPromptId())];
    if (reward != null && reward.failed()) {
      fail("the reward of prompt '" + r.getPromptId() + "' sample " + r.getIndex()
          + " could not be computed: " + reward.error(), nowMs);
      return;
    }
    SampleResult.Builder b = r.toBuilder().setJobId(id);
    if (!r.hasNoiseKey()) {
      b.setNoiseKey(NoiseKey.newBuilder().setPromptId(r.getPromptId()).setIndex(r.getIndex()).setK(g.k));
    }
    if (reward != null) {
      b.setReward(reward.reward());
    }
    SampleResult scored = b.build();
    samplesDone++;
    tokens += r.getTokenIdsCount();
    events.append(JobEvent.newBuilder().setSample(scored));
    if (g.scored(scored)) {
      finishGroup(g, nowMs);
      if (active() && promptsDone == groups.length) {
        finish(JobState.JOB_STATE_SUCCEEDED, "", nowMs);
      }
    }
  }

  /** Summarizes a complete group and writes it to the sink; a sink failure fails the job. */
  private void finishGroup(PromptGroup g, long nowMs) {
    List<SampleResult> byIndex = g.byIndex();
    GroupSummary summary = GroupStatistics.summarize(id, g.prompt.getId(), byIndex);
    if (sink != null) {
      try {
        sink.writeGroup(byIndex);
      } catch (JsonlSink.SinkException e) {
        log.error("job {}: {}", id, e.getMessage());
        fail(e.getMessage(), nowMs);
        return;
      }
      events.stageSinkOffset(sink.committedBytes());
    }
    g.release();
    promptsDone++;
    events.append(JobEvent.newBuilder().setGroup(summary));
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
      try {
        sink.close();
      } catch (JsonlSink.SinkException e) {
        log.warn("job {}: {}", id, e.getMessage());
      }
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
