package quasiroll.coordinator.job;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executor;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import quasiroll.common.task.Verifier;
import quasiroll.coordinator.events.JobEventLog;
import quasiroll.coordinator.sink.JsonlSink;
import quasiroll.coordinator.sink.SinkWriter;
import quasiroll.coordinator.store.JobStore;
import quasiroll.v1.GroupSummary;
import quasiroll.v1.JobEvent;
import quasiroll.v1.JobState;
import quasiroll.v1.JobStatus;
import quasiroll.v1.NoiseKey;
import quasiroll.v1.Prompt;
import quasiroll.v1.SampleResult;

/**
 * One job's results and progress: its prompt groups, counters, state, event log and file sink. A
 * result is first admitted ({@link #accept}: deduplicated), then scored by the job manager (off the
 * actor when its prompt has a verifier) and published ({@link #complete}); a group's summary
 * follows its k-th sample; the job succeeds when every group is complete. A failed reward or a
 * failed sink write fails the job with the reason.
 *
 * <p>Owns what has arrived. Does NOT own what is running where (the job manager and the shard
 * scheduler do) — it answers which indices of a shard are still missing.
 */
final class Job {
  private static final Logger log = LoggerFactory.getLogger(Job.class);

  enum Outcome {
    ACCEPTED,
    DUPLICATE,
    VIOLATION,
    REJECTED,
    INACTIVE,
    SUPERSEDED,
    REGENERATE,
    GROW,
    DROP
  }

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
  private final SinkWriter sink;

  /** Summaries of groups handed to the sink writer and not yet reported written, by prompt. */
  private final Map<Integer, GroupSummary> writing = new HashMap<>();

  private final int maxPromptTokenId;
  private final boolean anyVerifier;
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

  /**
   * Whether the job's queued and finished lines are logged at DEBUG instead of INFO: jobs of the
   * HTTP front door (named "http" or "http user ..." by it), one or a few per request, which would
   * otherwise cost two log lines per request. A failed job is logged at ERROR all the same.
   */
  static boolean logsQuietly(quasiroll.v1.JobSpec spec) {
    String name = spec.getName();
    return name.equals("http") || name.startsWith("http user ");
  }

  /** A new job whose sink (if any) is written on the caller's thread. */
  Job(String id, ValidatedJob def, JobEventLog events, JsonlSink sink, long nowMs) {
    this(id, def, events, sink, Runnable::run, null, nowMs, true);
  }

  /**
   * A new job whose sink (if any) is written on {@code sinkThreads}; each group's outcome goes to
   * {@code written}, which must hand it to {@link #groupWritten} on the job's thread (the job
   * manager sends itself a message).
   */
  Job(
      String id,
      ValidatedJob def,
      JobEventLog events,
      JsonlSink sink,
      Executor sinkThreads,
      Consumer<SinkWriter.Written> written,
      long nowMs) {
    this(id, def, events, sink, sinkThreads, written, nowMs, true);
  }

  /**
   * Rebuilds a job from its committed events (a coordinator restart): every stored sample is
   * admitted and scored again without being re-published, counters come back, and a group whose k
   * samples were all stored but whose summary was not is finished now (summary and sink write).
   * Then {@link #missing} names exactly the samples never stored.
   */
  static Job resume(
      String id,
      ValidatedJob def,
      JobEventLog events,
      JsonlSink sink,
      long submittedMs,
      long nowMs) {
    return resume(id, def, events, sink, Map.of(), submittedMs, nowMs);
  }

  /**
   * @param groupStates each started group's pinned policy version, regeneration epoch and size as
   *     the store recorded them: samples of another version (a regenerated group's old epoch,
   *     aborted samples reported) are not admitted again
   */
  static Job resume(
      String id,
      ValidatedJob def,
      JobEventLog events,
      JsonlSink sink,
      Map<Integer, JobStore.GroupState> groupStates,
      long submittedMs,
      long nowMs) {
    return resume(id, def, events, sink, Runnable::run, null, groupStates, submittedMs, nowMs);
  }

  /**
   * As {@link #resume(String, ValidatedJob, JobEventLog, JsonlSink, Map, long, long)}, the sink
   * written on {@code sinkThreads} with outcomes to {@code written} (see the constructor).
   */
  static Job resume(
      String id,
      ValidatedJob def,
      JobEventLog events,
      JsonlSink sink,
      Executor sinkThreads,
      Consumer<SinkWriter.Written> written,
      Map<Integer, JobStore.GroupState> groupStates,
      long submittedMs,
      long nowMs) {
    Job job = new Job(id, def, events, sink, sinkThreads, written, submittedMs, false);
    groupStates
        .values()
        .forEach(
            gs -> {
              job.versions[gs.promptIndex()] = gs.version();
              job.epochs[gs.promptIndex()] = gs.epoch();
              if (gs.size() > job.groups[gs.promptIndex()].k) {
                job.groups[gs.promptIndex()].grow(gs.size());
              }
            });
    job.replay(events.visible(), nowMs);
    return job;
  }

  private void replay(List<JobEvent> stored, long nowMs) {
    for (JobEvent e : stored) {
      switch (e.getEventCase()) {
        case SAMPLE -> {
          SampleResult r = e.getSample();
          int p = promptIndex.get(r.getPromptId());
          PromptGroup g = groups[p];
          if (versions[p] >= 0 && r.getPolicyVersion() != versions[p]) {
            superseded++;
          } else if (r.getIndex() < g.first + g.count
              && g.offer(r) == PromptGroup.Outcome.ACCEPTED) {
            g.scored(r);
            samplesDone++;
            tokens += r.getTokenIdsCount();
          }
        }
        case GROUP -> {
          PromptGroup g = groups[promptIndex.get(e.getGroup().getPromptId())];
          g.release();
          promptsDone++;
          if (e.getGroup().getDropped()) {
            dropped++;
            nextReservePrompt();
          } else {
            delivered++;
          }
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
    for (int p = 0; p < groups.length; p++) {
      PromptGroup g = groups[p];
      if (active()
          && g.complete()
          && !g.released()
          && groupComplete(p, nowMs, Long.MAX_VALUE) == Outcome.DROP) {
        nextReservePrompt();
      }
    }
    if (active() && allDone()) {
      finish(JobState.JOB_STATE_SUCCEEDED, "", nowMs);
    }
  }

  /** Prompts the scheduler has started (DROP: not the reserve still held back). */
  int startedPrompts() {
    return nextReserve;
  }

  /** The sample indices prompt p's group runs now (more once grown). */
  int[] indices(int p) {
    int[] all = new int[groups[p].count];
    java.util.Arrays.setAll(all, i -> groups[p].first + i);
    return all;
  }

  /**
   * @param written null: outcomes go straight to {@link #groupWritten} (with a direct executor, the
   *     write is done when groupComplete returns, as a synchronous sink)
   */
  private Job(
      String id,
      ValidatedJob def,
      JobEventLog events,
      JsonlSink sink,
      Executor sinkThreads,
      Consumer<SinkWriter.Written> written,
      long nowMs,
      boolean publish) {
    this.id = id;
    this.def = def;
    this.events = events;
    this.submittedMs = nowMs;
    List<Prompt> prompts = def.prompts();
    this.groups = new PromptGroup[prompts.size()];
    this.versions = new long[prompts.size()];
    this.epochs = new int[prompts.size()];
    java.util.Arrays.fill(versions, -1);
    int targetGroups = def.spec().getTargetGroups();
    this.target =
        def.spec().getZeroVariance() == quasiroll.v1.ZeroVarianceMode.ZERO_VARIANCE_DROP
                && targetGroups > 0
            ? Math.min(targetGroups, prompts.size())
            : prompts.size();
    this.nextReserve = target;
    int maxToken = -1;
    for (int i = 0; i < groups.length; i++) {
      groups[i] =
          new PromptGroup(
              prompts.get(i),
              def.verifiers().get(i),
              def.spec().getK(),
              firstIndex(def),
              indexCount(def));
      promptIndex.put(prompts.get(i).getId(), i);
      for (int t : prompts.get(i).getTokenIdsList()) {
        maxToken = Math.max(maxToken, t);
      }
    }
    this.maxPromptTokenId = maxToken;
    this.anyVerifier = def.verifiers().stream().anyMatch(java.util.Objects::nonNull);
    this.sink =
        sink == null
            ? null
            : new SinkWriter(
                sink,
                sinkThreads,
                written != null ? written : w -> groupWritten(w, System.currentTimeMillis()));
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

  /**
   * The policy version prompt p's group runs on: pinned when its first shard is assigned and kept
   * by every later shard, so a group never mixes versions.
   *
   * @param latest the model's newest version now (used unless the job asked for an exact one)
   */
  long pin(int p, long latest) {
    if (versions[p] < 0) {
      versions[p] = def.spec().hasPolicyVersion() ? def.spec().getPolicyVersion() : latest;
      stageGroupState(p);
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
   * published in abort mode cut it short, or it grew too stale): the caller re-queues every index.
   * Shards of the old epoch still running are ignored when they finish.
   */
  int[] regenerate(int p, long version) {
    samplesDone -= groups[p].scoredCount();
    groups[p] =
        new PromptGroup(
            groups[p].prompt,
            groups[p].verifier,
            def.spec().getK(),
            firstIndex(def),
            indexCount(def));
    versions[p] = version;
    epochs[p]++;
    stageGroupState(p);
    int first = firstIndex(def);
    int[] all = new int[indexCount(def)];
    java.util.Arrays.setAll(all, i -> first + i);
    return all;
  }

  /** The store records a group's version, epoch and size so that a restart restores them. */
  private void stageGroupState(int p) {
    events.stageGroupState(new JobStore.GroupState(p, versions[p], epochs[p], groups[p].k));
  }

  String error() {
    return error;
  }

  /**
   * Admits one result: dedupes it by key and content hash. An ACCEPTED result must then be scored
   * ({@link #verifierOf}) and handed to {@link #complete}. Also {@link #accept(SampleResult, long,
   * long)}.
   */
  Outcome accept(SampleResult r, long nowMs) {
    return accept(r, nowMs, Long.MAX_VALUE);
  }

  /**
   * @param latest the model's newest version (for max_staleness and regeneration); Long.MAX_VALUE
   *     when unknown (neither is applied)
   */
  Outcome accept(SampleResult r, long nowMs, long latest) {
    if (!active()) {
      return Outcome.INACTIVE;
    }
    Integer p = promptIndex.get(r.getPromptId());
    if (p == null
        || r.getIndex() < groups[p].first
        || r.getIndex() >= groups[p].first + groups[p].count) {
      log.warn("result for unknown key ({}, {}) dropped", r.getPromptId(), r.getIndex());
      return Outcome.REJECTED;
    }
    boolean aborted = r.getFinishReason() == quasiroll.v1.FinishReason.FINISH_REASON_ABORTED;
    if (versions[p] >= 0 && r.getPolicyVersion() != versions[p]) {
      // from a shard of a regenerated group: never mixed in (the job manager still reports
      // an aborted one, tagged with its version, through report)
      superseded++;
      return Outcome.SUPERSEDED;
    }
    if (aborted
        && !def.spec().getKeepPartials()
        && latest != Long.MAX_VALUE
        && latest > versions[p]) {
      // cut short by a publish in abort mode: reported, and the group starts again
      superseded++;
      return Outcome.REGENERATE;
    }
    switch (groups[p].offer(r)) {
      case DUPLICATE -> {
        duplicates++;
        return Outcome.DUPLICATE;
      }
      case VIOLATION -> {
        duplicates++;
        violations++;
        log.error(
            "determinism violation: job {} prompt '{}' index {} arrived twice with different"
                + " content",
            id,
            r.getPromptId(),
            r.getIndex());
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
   * {@link #complete(SampleResult, VerifierPool.Outcome, long, long)} without a newest version (no
   * max_staleness).
   */
  Outcome complete(SampleResult r, VerifierPool.Outcome reward, long nowMs) {
    return complete(r, reward, nowMs, Long.MAX_VALUE);
  }

  /**
   * Publishes an admitted result with its reward. A reward that could not be computed fails the job
   * (a reward is never silently 0); a complete group is then decided on ({@link #groupComplete}):
   * regenerated when it fell more than max_staleness behind, grown or dropped when its rewards are
   * all equal (zero_variance), else summarized and written to the sink, whose failure also fails
   * the job. Does nothing once the job has ended, or for a sample of a group regenerated while it
   * was being scored.
   *
   * @param reward the verifier's outcome, or null when the prompt has no verifier
   * @param latest the model's newest version; Long.MAX_VALUE when unknown (max_staleness is not
   *     applied)
   * @return ACCEPTED, or GROW / DROP / REGENERATE for the job manager to act on, or SUPERSEDED /
   *     INACTIVE when the sample was ignored
   */
  Outcome complete(SampleResult r, VerifierPool.Outcome reward, long nowMs, long latest) {
    if (!active()) {
      return Outcome.INACTIVE;
    }
    int p = promptIndex.get(r.getPromptId());
    PromptGroup g = groups[p];
    if (versions[p] >= 0 && r.getPolicyVersion() != versions[p]) {
      superseded++;
      return Outcome.SUPERSEDED; // its group was regenerated while the verifier ran
    }
    if (reward != null && reward.failed()) {
      fail(
          "the reward of prompt '"
              + r.getPromptId()
              + "' sample "
              + r.getIndex()
              + " could not be computed: "
              + reward.error(),
          nowMs);
      return Outcome.INACTIVE;
    }
    SampleResult scored = withReward(g, r, reward);
    samplesDone++;
    tokens += r.getTokenIdsCount();
    events.append(JobEvent.newBuilder().setSample(scored));
    if (!g.scored(scored)) {
      return Outcome.ACCEPTED;
    }
    Outcome o = groupComplete(p, nowMs, latest);
    if (active() && allDone()) {
      finish(JobState.JOB_STATE_SUCCEEDED, "", nowMs);
    }
    return o;
  }

  /**
   * Publishes a sample that is not part of its group (an aborted sample of a superseded version, or
   * one whose group is regenerated), with its reward when it has one.
   */
  void report(SampleResult r, VerifierPool.Outcome reward) {
    if (!active()) {
      return;
    }
    PromptGroup g = groups[promptIndex.get(r.getPromptId())];
    events.append(
        JobEvent.newBuilder()
            .setSample(withReward(g, r, reward != null && reward.failed() ? null : reward)));
  }

  private SampleResult withReward(PromptGroup g, SampleResult r, VerifierPool.Outcome reward) {
    if (reward == null && r.hasNoiseKey() && r.getJobId().equals(id)) {
      return r; // workers set both: no copy per sample when there is nothing to add
    }
    SampleResult.Builder b = r.toBuilder().setJobId(id);
    if (!r.hasNoiseKey()) {
      b.setNoiseKey(
          NoiseKey.newBuilder().setPromptId(r.getPromptId()).setIndex(r.getIndex()).setK(g.k));
    }
    if (reward != null) {
      b.setReward(reward.reward());
    }
    return b.build();
  }

  /** Whether the job has all it will deliver (DROP: the target, or the reserve ran out). */
  private boolean allDone() {
    return delivered == target
        || promptsDone == groups.length
        || (nextReserve >= groups.length && promptsDone >= nextReserve);
  }

  /**
   * Prompt p's group has all its samples scored: regenerate it (too stale), grow or drop it (zero
   * variance), or deliver it.
   *
   * @param latest Long.MAX_VALUE when unknown (max_staleness is not applied)
   */
  private Outcome groupComplete(int p, long nowMs, long latest) {
    PromptGroup g = groups[p];
    if (def.spec().hasMaxStaleness()
        && latest != Long.MAX_VALUE
        && versions[p] >= 0
        && latest - versions[p] > def.spec().getMaxStaleness()) {
      // too far behind the newest version by the time it completed: run it again on that
      return Outcome.REGENERATE;
    }
    List<SampleResult> byIndex = g.byIndex();
    GroupSummary summary =
        GroupStatistics.summarize(id, g.prompt.getId(), byIndex).toBuilder()
            .setPolicyVersion(Math.max(0, versions[p]))
            .build();
    var mode = def.spec().getZeroVariance();
    if (summary.getZeroVariance() && !summary.getRewardsList().isEmpty()) {
      if (mode == quasiroll.v1.ZeroVarianceMode.ZERO_VARIANCE_GROW && g.k < growCap()) {
        g.grow(2 * g.k);
        stageGroupState(p);
        return Outcome.GROW;
      }
      if (mode == quasiroll.v1.ZeroVarianceMode.ZERO_VARIANCE_DROP) {
        g.release();
        dropped++;
        promptsDone++;
        events.append(JobEvent.newBuilder().setGroup(summary.toBuilder().setDropped(true)));
        return Outcome.DROP;
      }
    }
    g.release();
    if (sink != null) {
      // delivered once written and forced to the device (groupWritten): the summary, and the
      // job's success, are never published ahead of the group's lines
      writing.put(p, summary);
      sink.write(p, byIndex);
      // a direct executor has written it already: a failure has failed the job
      return state == JobState.JOB_STATE_FAILED ? Outcome.INACTIVE : Outcome.ACCEPTED;
    }
    deliver(summary);
    return Outcome.ACCEPTED;
  }

  private void deliver(GroupSummary summary) {
    promptsDone++;
    delivered++;
    events.append(JobEvent.newBuilder().setGroup(summary));
  }

  /**
   * A group handed to the sink writer was written and forced to the device, or failed. Success: the
   * sink's committed length is staged with the group's summary (they commit together), and the job
   * SUCCEEDS when this was its last group. Failure: the job FAILS with the sink's message (the file
   * is already cut back to its last whole group). Ignored once the job has ended.
   */
  void groupWritten(SinkWriter.Written w, long nowMs) {
    GroupSummary summary = writing.remove(w.prompt());
    if (!active() || summary == null) {
      return;
    }
    if (w.failed()) {
      log.error("job {}: {}", id, w.error());
      fail(w.error(), nowMs);
      return;
    }
    events.stageSinkOffset(w.committedBytes());
    deliver(summary);
    if (allDone()) {
      finish(JobState.JOB_STATE_SUCCEEDED, "", nowMs);
    }
  }

  /** Whether any prompt of the job has a verifier. */
  boolean hasVerifiers() {
    return anyVerifier;
  }

  /** Prompt p's verifier, or null. */
  Verifier verifierOf(int promptIndex) {
    return groups[promptIndex].verifier;
  }

  /** Groups handed to the sink writer and not yet written (back-pressure for slow sinks). */
  int sinkBacklog() {
    return sink == null ? 0 : sink.pending();
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
    if (!active()
        || i == null
        || p.getIndex() < groups[i].first
        || p.getIndex() >= groups[i].first + groups[i].count
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
    writing.clear();
    if (sink != null) {
      sink.close(); // queued groups are dropped; the file keeps whole groups
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
