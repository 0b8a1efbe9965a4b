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

  enum Outcome { ACCEPTED, DUPLICATE, VIOLATION, REJECTED, INACTIVE, SUPERSEDED, REGENERATE, GROW, DROP }

  final String id;
  final ValidatedJob def;
  final JobEventLog events;
  private final PromptGroup[] groups;
  /** The policy version each group is pinned to (-1 = not started); see {@link #pin}. */
  private final long[] versions;
  /** Bumped each time a group is regenerated: shards of an older epoch are stale. */
  private final int[] epochs;
  private long superseded;
  /** zero_variance DROP: groups to deliver; prompts past the first {@code target} are a reserve. */
  private final int target;
  private int nextReserve;
  private int delivered;
  private int dropped;
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
    this.versions = new long[prompts.size()];
    this.epochs = new int[prompts.size()];
    java.util.Arrays.fill(versions, -1);
    int t = def.spec().getTargetGroups();
    this.target = def.spec().getZeroVariance() == quasiroll.v1.ZeroVarianceMode.ZERO_VARIANCE_DROP && t > 0
        ? Math.min(t, prompts.size()) : prompts.size();
    this.nextReserve = target;
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

  /**
   * The policy version prompt p's group runs on: pinned when its first shard is assigned and
   * kept by every later shard, so a group never mixes versions.
   *
   * @param latest the model's newest version now (used unless the job asked for an exact one)
   */
  long pin(int p, long latest) {
    if (versions[p] < 0) {
      versions[p] = def.spec().hasPolicyVersion() ? def.spec().getPolicyVersion() : latest;
    }
    return versions[p];
  }

  /** The version prompt p's group is pinned to, or -1 before its first shard. */
  long version(int p) {
    return versions[p];
  }

  int epoch(int p) {
    return epochs[p];
  }

  /** Versions pinned by groups not yet complete (a worker must keep them loaded). */
  java.util.Set<Long> pinnedVersions() {
    java.util.Set<Long> out = new java.util.HashSet<>();
    if (def.spec().hasPolicyVersion()) {
      out.add(def.spec().getPolicyVersion());
    }
    for (int p = 0; p < groups.length; p++) {
      if (versions[p] >= 0 && !groups[p].complete()) {
        out.add(versions[p]);
      }
    }
    return out;
  }

  /**
   * Throws away prompt p's samples and starts its group again on {@code version} (a version
   * published in abort mode cut it short, or it grew too stale): the caller re-queues every
   * index. Shards of the old epoch still running are ignored when they finish.
   */
  int[] regenerate(int p, long version) {
    samplesDone -= groups[p].received();
    groups[p] = new PromptGroup(groups[p].prompt, groups[p].verifier, def.spec().getK(), firstIndex(def), indexCount(def));
    versions[p] = version;
    epochs[p]++;
    int first = firstIndex(def);
    int[] all = new int[indexCount(def)];
    java.util.Arrays.setAll(all, i -> first + i);
    return all;
  }

  /** Scores, dedupes and publishes one result. */
  Outcome accept(SampleResult r, long nowMs) {
    return accept(r, nowMs, Long.MAX_VALUE);
  }

  /**
   * @param latest the model's newest version (for max_staleness and regeneration);
   *     Long.MAX_VALUE when unknown (neither is applied)
   */
  Outcome accept(SampleResult r, long nowMs, long latest) {
    if (!active()) {
      return Outcome.INACTIVE;
    }
    Integer p = promptIndex.get(r.getPromptId());
    if (p == null || r.getIndex() < groups[p].first || r.getIndex() >= groups[p].first + groups[p].count) {
      log.warn("result for unknown key ({}, {}) dropped", r.getPromptId(), r.getIndex());
      return Outcome.REJECTED;
    }
    boolean aborted = r.getFinishReason() == quasiroll.v1.FinishReason.FINISH_REASON_ABORTED;
    if (versions[p] >= 0 && r.getPolicyVersion() != versions[p]) {
      // from a shard of a regenerated group: never mixed in, but an aborted sample is still
      // reported (tagged with its version), as the abort mode promises
      superseded++;
      if (aborted) {
        events.append(JobEvent.newBuilder().setSample(score(groups[p], r)));
      }
      return Outcome.SUPERSEDED;
    }
    if (aborted && !def.spec().getKeepPartials() && latest != Long.MAX_VALUE && latest > versions[p]) {
      events.append(JobEvent.newBuilder().setSample(score(groups[p], r)));
      superseded++;
      return Outcome.REGENERATE;
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
      if (def.spec().hasMaxStaleness() && latest != Long.MAX_VALUE
          && latest - versions[p] > def.spec().getMaxStaleness()) {
        // too far behind the newest version by the time it completed: run it again on that
        return Outcome.REGENERATE;
      }
      List<SampleResult> byIndex = g.byIndex();
      GroupSummary summary = GroupStatistics.summarize(id, g.prompt.getId(), byIndex).toBuilder()
          .setPolicyVersion(Math.max(0, versions[p])).build();
      var mode = def.spec().getZeroVariance();
      if (summary.getZeroVariance() && !summary.getRewardsList().isEmpty()) {
        if (mode == quasiroll.v1.ZeroVarianceMode.ZERO_VARIANCE_GROW && g.k < growCap()) {
          g.grow(2 * g.k);
          return Outcome.GROW;
        }
        if (mode == quasiroll.v1.ZeroVarianceMode.ZERO_VARIANCE_DROP) {
          g.release();
          dropped++;
          promptsDone++;
          events.append(JobEvent.newBuilder().setGroup(summary.toBuilder().setDropped(true)));
          if (nextReserve >= groups.length && promptsDone >= nextReserve) {
            finish(JobState.JOB_STATE_SUCCEEDED, "", nowMs);
          }
          return Outcome.DROP;
        }
      }
      if (sink != null) {
        sink.writeGroup(byIndex);
      }
      g.release();
      promptsDone++;
      delivered++;
      events.append(JobEvent.newBuilder().setGroup(summary));
      if (delivered == target || promptsDone == groups.length
          || (nextReserve >= groups.length && promptsDone >= nextReserve)) {
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

  /** zero_variance GROW: the largest size a group may reach (grow_max_k, default 4k). */
  int growCap() {
    int k = def.spec().getK();
    int cap = def.spec().getGrowMaxK() > 0 ? def.spec().getGrowMaxK() : 4 * k;
    int size = k;
    while (size * 2 <= cap) {
      size *= 2;
    }
    return size;
  }

  /** Prompts the scheduler starts with (DROP keeps the rest as a reserve). */
  int initialPrompts() {
    return target;
  }

  /** DROP: the next reserve prompt to run instead of a dropped group, or -1 when none is left. */
  int nextReservePrompt() {
    return nextReserve < groups.length ? nextReserve++ : -1;
  }

  /** Current size of prompt p's group (k, or more once grown). */
  int groupSize(int p) {
    return groups[p].k;
  }

  /** The prompt index of a prompt id, or -1. */
  int promptIndexOf(String promptId) {
    Integer p = promptIndex.get(promptId);
    return p == null ? -1 : p;
  }

  long superseded() {
    return superseded;
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
        .setSamplesTotal((long) target * indexCount(def))
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
