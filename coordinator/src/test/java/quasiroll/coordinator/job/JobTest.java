package quasiroll.coordinator.job;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import quasiroll.common.task.Verifier;
import quasiroll.coordinator.events.JobEventLog;
import quasiroll.coordinator.sink.JsonlSink;
import quasiroll.coordinator.sink.SinkWriter;
import quasiroll.v1.JobEvent;
import quasiroll.v1.JobSpec;
import quasiroll.v1.JobState;
import quasiroll.v1.Prompt;
import quasiroll.v1.SampleResult;

class JobTest {
  private static final Prompt P0 = Prompt.newBuilder().setId("p0").setText("x").build();
  private static final Prompt P1 = Prompt.newBuilder().setId("p1").setText("y").build();

  private static Job job(int k, Verifier reward) {
    return job(k, reward, null);
  }

  private static Job job(int k, Verifier reward, JsonlSink sink) {
    JobSpec spec = JobSpec.newBuilder().setModel("m").setK(k).addPrompts(P0).addPrompts(P1).build();
    return new Job(
        "j",
        new ValidatedJob(spec, List.of(P0, P1), Arrays.asList(reward, reward), null),
        new JobEventLog(),
        sink,
        0);
  }

  /** Admits a result and, when admitted, scores it inline as the job manager would. */
  private static Job.Outcome offer(Job job, SampleResult r, long now) {
    Job.Outcome o = job.accept(r, now);
    if (o == Job.Outcome.ACCEPTED) {
      Verifier v = job.verifierOf(r);
      job.complete(
          r, v == null ? null : new VerifierPool.Outcome(v.reward(r.getText()), null), now);
    }
    return o;
  }

  private static SampleResult sample(String prompt, int index, String text) {
    return SampleResult.newBuilder()
        .setPromptId(prompt)
        .setIndex(index)
        .setText(text)
        .addTokenIds(text.length())
        .setContentHash(ByteString.copyFromUtf8(text))
        .build();
  }

  @Test
  void exactlyKPerPromptDuplicatesDroppedViolationsCounted() {
    Job job = job(3, null);
    assertEquals(Job.Outcome.ACCEPTED, offer(job, sample("p0", 0, "a"), 1));
    assertEquals(Job.Outcome.DUPLICATE, offer(job, sample("p0", 0, "a"), 1));
    assertEquals(Job.Outcome.VIOLATION, offer(job, sample("p0", 0, "DIFFERENT"), 1));
    assertEquals(Job.Outcome.REJECTED, offer(job, sample("p0", 3, "a"), 1));
    assertEquals(Job.Outcome.REJECTED, offer(job, sample("nope", 0, "a"), 1));
    assertArrayEquals(new int[] {1, 2}, job.missing(0, new int[] {0, 1, 2}));
    for (int i = 1; i < 3; i++) {
      offer(job, sample("p0", i, "t" + i), 1);
      offer(job, sample("p1", i, "t" + i), 1);
    }
    assertTrue(job.active());
    offer(job, sample("p1", 0, "z"), 2);
    assertFalse(job.active());
    assertEquals(JobState.JOB_STATE_SUCCEEDED, job.state());
    assertEquals(6, job.status().getSamplesDone());
    assertEquals(2, job.status().getDuplicatesDropped());
    assertEquals(1, job.status().getDeterminismViolations());
    // A late duplicate after completion is still recognised and does not reopen the job.
    assertEquals(Job.Outcome.INACTIVE, offer(job, sample("p0", 0, "a"), 3));
  }

  @Test
  void eventsAreSamplesThenTheGroupThenTheFinalStatus() {
    Job job = job(2, text -> text.equals("win") ? 1.0 : 0.0);
    offer(job, sample("p0", 1, "win"), 1);
    offer(job, sample("p0", 0, "lose"), 1);
    offer(job, sample("p1", 0, "lose"), 1);
    offer(job, sample("p1", 1, "lose"), 1);
    List<JobEvent.EventCase> kinds = new ArrayList<>();
    for (int i = 0; i < job.events.size(); i++) {
      assertEquals(i, job.events.get(i).getOffset());
      kinds.add(job.events.get(i).getEventCase());
    }
    assertEquals(
        List.of(
            JobEvent.EventCase.STATUS,
            JobEvent.EventCase.SAMPLE,
            JobEvent.EventCase.SAMPLE,
            JobEvent.EventCase.GROUP,
            JobEvent.EventCase.SAMPLE,
            JobEvent.EventCase.SAMPLE,
            JobEvent.EventCase.GROUP,
            JobEvent.EventCase.STATUS),
        kinds);
    var g0 = job.events.get(3).getGroup();
    assertEquals(List.of(0.0, 1.0), g0.getRewardsList());
    assertTrue(g0.getPass());
    assertFalse(g0.getZeroVariance());
    var g1 = job.events.get(6).getGroup();
    assertTrue(g1.getZeroVariance());
    assertFalse(g1.getPass());
    assertTrue(job.events.finished());
  }

  @Test
  void aFailedRewardFailsTheJobInsteadOfScoringZero() {
    Job job = job(2, text -> 1.0);
    assertEquals(Job.Outcome.ACCEPTED, job.accept(sample("p0", 0, "a"), 1));
    job.complete(sample("p0", 0, "a"), new VerifierPool.Outcome(0, "reward service down"), 2);
    assertEquals(JobState.JOB_STATE_FAILED, job.state());
    assertTrue(
        job.error().contains("prompt 'p0' sample 0") && job.error().contains("reward service down"),
        job.error());
    assertTrue(job.events.finished());
  }

  @Test
  void aSinkThatCannotWriteFailsTheJobAndLeavesWholeGroups(@TempDir Path dir) throws Exception {
    Path file = dir.resolve("s.jsonl");
    JsonlSink sink = JsonlSink.create(file);
    Job job = job(1, null, sink);
    offer(job, sample("p0", 0, "a"), 1);
    long whole = Files.size(file);
    assertTrue(whole > 0 && Files.readString(file).endsWith("\n"));
    sink.close(); // the next write fails like a vanished disk would
    offer(job, sample("p1", 0, "b"), 2);
    assertEquals(JobState.JOB_STATE_FAILED, job.state());
    assertTrue(job.error().contains(file.toString()), job.error());
    assertEquals(whole, Files.size(file));
  }

  @Test
  void aGroupIsDeliveredAndTheJobSucceedsOnlyOnceItsLinesAreWritten(@TempDir Path dir)
      throws Exception {
    Path file = dir.resolve("s.jsonl");
    List<Runnable> writes = new ArrayList<>();
    List<SinkWriter.Written> outcomes = new ArrayList<>();
    JobSpec spec = JobSpec.newBuilder().setModel("m").setK(1).addPrompts(P0).addPrompts(P1).build();
    Job job =
        new Job(
            "j",
            new ValidatedJob(spec, List.of(P0, P1), Arrays.asList((Verifier) null, null), file),
            new JobEventLog(),
            JsonlSink.create(file),
            writes::add,
            outcomes::add,
            0);
    job.markRunning();
    offer(job, sample("p0", 0, "a"), 1);
    offer(job, sample("p1", 0, "b"), 2);
    assertEquals(2, job.status().getSamplesDone());
    assertEquals(0, job.status().getPromptsDone(), "no group is delivered before it is written");
    assertEquals(JobState.JOB_STATE_RUNNING, job.state());
    assertTrue(job.events.visible().stream().noneMatch(JobEvent::hasGroup));
    assertEquals(2, job.sinkBacklog());
    assertEquals(0, Files.size(file));
    writes.forEach(Runnable::run); // the sink thread: both groups, in order
    assertEquals(List.of(0, 1), outcomes.stream().map(SinkWriter.Written::prompt).toList());
    job.groupWritten(outcomes.get(0), 3);
    assertEquals(JobState.JOB_STATE_RUNNING, job.state());
    job.groupWritten(outcomes.get(1), 4);
    assertEquals(JobState.JOB_STATE_SUCCEEDED, job.state());
    assertEquals(2, job.status().getPromptsDone());
    assertEquals(outcomes.get(1).committedBytes(), Files.size(file));
    assertEquals(2, Files.readAllLines(file).size());
  }

  @Test
  void aFailedAsynchronousWriteFailsTheJobWithTheSinksMessage(@TempDir Path dir) {
    Path file = dir.resolve("s.jsonl");
    JobSpec spec = JobSpec.newBuilder().setModel("m").setK(1).addPrompts(P0).addPrompts(P1).build();
    List<SinkWriter.Written> outcomes = new ArrayList<>();
    Job job =
        new Job(
            "j",
            new ValidatedJob(spec, List.of(P0, P1), Arrays.asList((Verifier) null, null), file),
            new JobEventLog(),
            JsonlSink.create(file),
            Runnable::run,
            outcomes::add,
            0);
    offer(job, sample("p0", 0, "a"), 1);
    job.groupWritten(
        new SinkWriter.Written(0, 0, "cannot write JSONL sink " + file + ": No space left"), 2);
    job.groupWritten(outcomes.get(0), 2); // an outcome after the failure changes nothing
    assertEquals(JobState.JOB_STATE_FAILED, job.state());
    assertTrue(job.error().contains("No space left") && job.error().contains(file.toString()));
  }

  @Test
  void cancelEndsTheLogAndIgnoresLaterResults() {
    Job job = job(2, null);
    offer(job, sample("p0", 0, "a"), 1);
    job.cancel(2);
    assertEquals(JobState.JOB_STATE_CANCELLED, job.state());
    assertEquals(Job.Outcome.INACTIVE, offer(job, sample("p0", 1, "a"), 3));
    assertTrue(job.events.finished());
  }

  @Test
  void aSliceOfTheGroupCompletesWithItsOwnIndicesAndProgressStopsAtTheResult() {
    JobSpec spec =
        JobSpec.newBuilder()
            .setModel("m")
            .setK(8)
            .setIndexOffset(4)
            .setIndexCount(2)
            .addPrompts(P0)
            .build();
    Job job =
        new Job(
            "j",
            new ValidatedJob(spec, List.of(P0), Arrays.asList((Verifier) null), null),
            new JobEventLog(),
            null,
            0);
    assertEquals(2, job.status().getSamplesTotal());
    assertEquals(Job.Outcome.REJECTED, job.accept(sample("p0", 3, "a"), 1));
    assertEquals(Job.Outcome.REJECTED, job.accept(sample("p0", 6, "a"), 1));
    quasiroll.v1.SampleProgress p =
        quasiroll.v1.SampleProgress.newBuilder().setPromptId("p0").setIndex(4).setText("a").build();
    job.progress(p);
    job.progress(p.toBuilder().setIndex(3).build()); // outside the slice: dropped
    assertEquals(Job.Outcome.ACCEPTED, offer(job, sample("p0", 4, "a"), 1));
    job.progress(p); // the sample is in: dropped
    assertTrue(job.active());
    assertEquals(Job.Outcome.ACCEPTED, offer(job, sample("p0", 5, "b"), 1));
    assertEquals(JobState.JOB_STATE_SUCCEEDED, job.state());
    List<JobEvent.EventCase> kinds = new ArrayList<>();
    for (int i = 0; i < job.events.size(); i++) {
      kinds.add(job.events.get(i).getEventCase());
    }
    assertEquals(
        List.of(
            JobEvent.EventCase.STATUS,
            JobEvent.EventCase.PROGRESS,
            JobEvent.EventCase.SAMPLE,
            JobEvent.EventCase.SAMPLE,
            JobEvent.EventCase.GROUP,
            JobEvent.EventCase.STATUS),
        kinds);
  }
}
