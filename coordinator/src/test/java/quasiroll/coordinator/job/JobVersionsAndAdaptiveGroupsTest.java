package quasiroll.coordinator.job;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import quasiroll.common.task.Verifier;
import quasiroll.coordinator.events.JobEventLog;
import quasiroll.coordinator.events.JobEventLogs;
import quasiroll.coordinator.store.JobStore;
import quasiroll.v1.FinishReason;
import quasiroll.v1.GroupSummary;
import quasiroll.v1.JobSpec;
import quasiroll.v1.JobState;
import quasiroll.v1.Prompt;
import quasiroll.v1.SampleResult;
import quasiroll.v1.ZeroVarianceMode;

/** Policy versions, regeneration, max_staleness, and zero_variance DROP / GROW at the job level. */
class JobVersionsAndAdaptiveGroupsTest {
  private static final Verifier WIN = text -> text.equals("win") ? 1.0 : 0.0;

  @TempDir Path dir;

  private static ValidatedJob def(JobSpec.Builder spec, int prompts) {
    List<Prompt> ps = new ArrayList<>();
    for (int i = 0; i < prompts; i++) {
      ps.add(Prompt.newBuilder().setId("p" + i).setText("x").build());
    }
    spec.setModel("m").addAllPrompts(ps);
    return new ValidatedJob(spec.build(), ps, Collections.nCopies(prompts, WIN), null);
  }

  private static Job job(JobSpec.Builder spec, int prompts) {
    List<Prompt> ps = new ArrayList<>();
    for (int i = 0; i < prompts; i++) {
      ps.add(Prompt.newBuilder().setId("p" + i).setText("x").build());
    }
    spec.setModel("m").addAllPrompts(ps);
    return new Job(
        "j",
        new ValidatedJob(spec.build(), ps, Collections.nCopies(prompts, WIN), null),
        new JobEventLog(),
        null,
        0);
  }

  /** Admits a result and, when admitted, scores and completes it as the job manager would. */
  private static Job.Outcome offer(Job job, SampleResult r, long now, long latest) {
    Job.Outcome o = job.accept(r, now, latest);
    if (o != Job.Outcome.ACCEPTED) {
      return o;
    }
    Verifier v = job.verifierOf(r);
    return job.complete(
        r, v == null ? null : new VerifierPool.Outcome(v.reward(r.getText()), null), now, latest);
  }

  private static SampleResult sample(int p, int index, String text, long version) {
    return SampleResult.newBuilder()
        .setPromptId("p" + p)
        .setIndex(index)
        .setText(text)
        .setPolicyVersion(version)
        .addTokenIds(text.length())
        .setContentHash(ByteString.copyFromUtf8(text + index))
        .build();
  }

  private static List<GroupSummary> groups(Job job) {
    List<GroupSummary> out = new ArrayList<>();
    for (int i = 0; i < job.events.size(); i++) {
      if (job.events.get(i).hasGroup()) {
        out.add(job.events.get(i).getGroup());
      }
    }
    return out;
  }

  @Test
  void groupsArePinnedAndSamplesOfAnotherVersionNeverMixIn() {
    Job job = job(JobSpec.newBuilder().setK(2), 1);
    assertEquals(3, job.pin(0, 3));
    assertEquals(3, job.pin(0, 5), "a group keeps the version of its first shard");
    assertEquals(Job.Outcome.SUPERSEDED, offer(job, sample(0, 0, "win", 5), 1, 5));
    offer(job, sample(0, 0, "win", 3), 1, 5);
    offer(job, sample(0, 1, "lose", 3), 1, 5);
    assertEquals(3, groups(job).get(0).getPolicyVersion());
    assertEquals(JobState.JOB_STATE_SUCCEEDED, job.state());
  }

  @Test
  void abortedSamplesRegenerateTheGroupUnlessPartialsAreKept() {
    Job job = job(JobSpec.newBuilder().setK(2), 1);
    job.pin(0, 1);
    offer(job, sample(0, 0, "win", 1), 1, 2);
    SampleResult cut =
        sample(0, 1, "lo", 1).toBuilder()
            .setFinishReason(FinishReason.FINISH_REASON_ABORTED)
            .build();
    assertEquals(Job.Outcome.REGENERATE, offer(job, cut, 1, 2));
    int[] again = job.regenerate(0, 2);
    assertEquals(2, again.length);
    assertEquals(
        Job.Outcome.SUPERSEDED,
        offer(job, sample(0, 0, "win", 1), 1, 2),
        "the old epoch's samples");
    offer(job, sample(0, 0, "lose", 2), 1, 2);
    offer(job, sample(0, 1, "win", 2), 1, 2);
    assertEquals(2, groups(job).get(0).getPolicyVersion());
    assertEquals(2, job.status().getSamplesDone());

    Job keep = job(JobSpec.newBuilder().setK(2).setKeepPartials(true), 1);
    keep.pin(0, 1);
    offer(keep, sample(0, 0, "win", 1), 1, 2);
    assertEquals(Job.Outcome.ACCEPTED, offer(keep, cut, 1, 2));
    assertEquals(1, groups(keep).get(0).getPolicyVersion());
  }

  @Test
  void maxStalenessRegeneratesGroupsThatFellTooFarBehind() {
    Job job = job(JobSpec.newBuilder().setK(2).setMaxStaleness(1), 2);
    job.pin(0, 1);
    offer(job, sample(0, 0, "win", 1), 1, 2);
    assertEquals(
        Job.Outcome.ACCEPTED, offer(job, sample(0, 1, "lose", 1), 1, 2), "1 behind is allowed");
    job.pin(1, 1);
    offer(job, sample(1, 0, "win", 1), 1, 3);
    assertEquals(
        Job.Outcome.REGENERATE, offer(job, sample(1, 1, "lose", 1), 1, 3), "2 behind is not");
  }

  @Test
  void growDoublesAZeroVarianceGroupUpToTheCap() {
    Job job =
        job(
            JobSpec.newBuilder()
                .setK(2)
                .setZeroVariance(ZeroVarianceMode.ZERO_VARIANCE_GROW)
                .setGrowMaxK(8),
            2);
    assertEquals(8, job.growCap());
    job.pin(0, 0);
    offer(job, sample(0, 0, "lose", 0), 1, 0);
    assertEquals(Job.Outcome.GROW, offer(job, sample(0, 1, "lose", 0), 1, 0));
    assertEquals(4, job.groupSize(0));
    offer(job, sample(0, 2, "lose", 0), 1, 0);
    assertEquals(Job.Outcome.GROW, offer(job, sample(0, 3, "lose", 0), 1, 0));
    for (int i = 4; i < 7; i++) {
      offer(job, sample(0, i, "lose", 0), 1, 0);
    }
    assertEquals(
        Job.Outcome.ACCEPTED,
        offer(job, sample(0, 7, "lose", 0), 1, 0),
        "at the cap it is delivered");
    GroupSummary g = groups(job).get(0);
    assertEquals(8, g.getK());
    assertTrue(g.getZeroVariance());
    // a group that finds a different reward once grown stops growing
    job.pin(1, 0);
    offer(job, sample(1, 0, "lose", 0), 1, 0);
    assertEquals(Job.Outcome.GROW, offer(job, sample(1, 1, "lose", 0), 1, 0));
    offer(job, sample(1, 2, "win", 0), 1, 0);
    offer(job, sample(1, 3, "lose", 0), 1, 0);
    GroupSummary g1 = groups(job).get(1);
    assertEquals(4, g1.getK());
    assertFalse(g1.getZeroVariance());
    assertEquals(List.of(0.0, 0.0, 1.0, 0.0), g1.getRewardsList());
    assertEquals(JobState.JOB_STATE_SUCCEEDED, job.state());
  }

  @Test
  void dropReplacesZeroVarianceGroupsWithReservePromptsUntilTheTargetIsMet() {
    Job job =
        job(
            JobSpec.newBuilder()
                .setK(2)
                .setZeroVariance(ZeroVarianceMode.ZERO_VARIANCE_DROP)
                .setTargetGroups(2),
            4);
    assertEquals(2, job.initialPrompts());
    offer(job, sample(0, 0, "lose", 0), 1, 0);
    assertEquals(Job.Outcome.DROP, offer(job, sample(0, 1, "lose", 0), 1, 0));
    assertEquals(2, job.nextReservePrompt());
    offer(job, sample(1, 0, "win", 0), 1, 0);
    offer(job, sample(1, 1, "lose", 0), 1, 0);
    assertTrue(job.active());
    offer(job, sample(2, 0, "lose", 0), 1, 0);
    offer(job, sample(2, 1, "win", 0), 1, 0);
    assertEquals(JobState.JOB_STATE_SUCCEEDED, job.state());
    List<GroupSummary> gs = groups(job);
    assertEquals(List.of(true, false, false), gs.stream().map(GroupSummary::getDropped).toList());
    assertEquals(
        2, gs.stream().filter(g -> !g.getDropped()).count(), "the target number of useful groups");
  }

  @Test
  void dropEndsWhenTheReserveRunsOut() {
    Job job =
        job(
            JobSpec.newBuilder()
                .setK(2)
                .setZeroVariance(ZeroVarianceMode.ZERO_VARIANCE_DROP)
                .setTargetGroups(1),
            2);
    offer(job, sample(0, 0, "lose", 0), 1, 0);
    offer(job, sample(0, 1, "lose", 0), 1, 0);
    assertEquals(1, job.nextReservePrompt());
    assertEquals(-1, job.nextReservePrompt());
    offer(job, sample(1, 0, "lose", 0), 1, 0);
    assertEquals(Job.Outcome.DROP, offer(job, sample(1, 1, "lose", 0), 1, 0));
    assertEquals(
        JobState.JOB_STATE_SUCCEEDED,
        job.state(),
        "no reserve left: the job ends with what it has");
  }

  /**
   * A coordinator restart replays a job from its store: a regenerated group keeps its new version
   * and epoch (the old epoch's stored samples are not admitted again) and a grown group keeps its
   * size, so exactly the never-stored samples are run again.
   */
  @Test
  void pinnedVersionsEpochsAndGrowthSurviveARestart() {
    ValidatedJob versioned = def(JobSpec.newBuilder().setK(2), 1);
    ValidatedJob growing =
        def(
            JobSpec.newBuilder()
                .setK(2)
                .setZeroVariance(ZeroVarianceMode.ZERO_VARIANCE_GROW)
                .setGrowMaxK(8),
            1);
    JobStore store = JobStore.open(dir.resolve("jobs.db"));
    JobEventLogs logs = new JobEventLogs(store);
    Job a = new Job("a", versioned, logs.create("a", "alice"), null, 0);
    a.pin(0, 1);
    offer(a, sample(0, 0, "win", 1), 1, 2);
    SampleResult cut =
        sample(0, 1, "lo", 1).toBuilder()
            .setFinishReason(FinishReason.FINISH_REASON_ABORTED)
            .build();
    assertEquals(Job.Outcome.REGENERATE, offer(a, cut, 1, 2));
    a.report(cut, null);
    a.regenerate(0, 2);
    offer(a, sample(0, 0, "lose", 2), 1, 2);
    Job g = new Job("g", growing, logs.create("g", "alice"), null, 0);
    g.pin(0, 0);
    offer(g, sample(0, 0, "lose", 0), 1, 0);
    assertEquals(Job.Outcome.GROW, offer(g, sample(0, 1, "lose", 0), 1, 0));
    offer(g, sample(0, 2, "lose", 0), 1, 0);
    logs.commit();
    store.close();

    JobStore reopened = JobStore.open(dir.resolve("jobs.db"));
    JobEventLogs logs2 = new JobEventLogs(reopened);
    Job a2 =
        Job.resume(
            "a",
            versioned,
            logs2.restore("a", "alice", reopened.events("a")),
            null,
            reopened.groups("a"),
            0,
            2);
    assertEquals(2, a2.version(0));
    assertEquals(1, a2.epoch(0));
    assertArrayEquals(
        new int[] {1}, a2.missing(0, a2.indices(0)), "only the new epoch's sample 0 is stored");
    assertEquals(1, a2.status().getSamplesDone());
    assertEquals(
        Job.Outcome.SUPERSEDED, offer(a2, sample(0, 1, "win", 1), 3, 2), "the old epoch stays out");
    offer(a2, sample(0, 1, "win", 2), 3, 2);
    assertEquals(JobState.JOB_STATE_SUCCEEDED, a2.state());
    logs2.commit();
    GroupSummary summary = groups(a2).get(0);
    assertEquals(2, summary.getPolicyVersion());
    assertEquals(List.of(0.0, 1.0), summary.getRewardsList());

    Job g2 =
        Job.resume(
            "g",
            growing,
            logs2.restore("g", "alice", reopened.events("g")),
            null,
            reopened.groups("g"),
            0,
            2);
    assertEquals(4, g2.groupSize(0));
    assertArrayEquals(new int[] {3}, g2.missing(0, g2.indices(0)));
    assertEquals(
        Job.Outcome.GROW, offer(g2, sample(0, 3, "lose", 0), 3, 0), "still all equal: grows to 8");
    assertEquals(8, g2.groupSize(0));
    reopened.close();
  }
}
