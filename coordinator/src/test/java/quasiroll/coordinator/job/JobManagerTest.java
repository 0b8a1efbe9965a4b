package quasiroll.coordinator.job;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.ConfigFactory;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.cluster.UniqueAddress;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import quasiroll.cluster.SampleHashes;
import quasiroll.cluster.wire.ShardTask;
import quasiroll.cluster.wire.ToCoordinator;
import quasiroll.cluster.wire.ToCoordinator.RegisterWorker;
import quasiroll.cluster.wire.ToCoordinator.RequestWork;
import quasiroll.cluster.wire.ToWorker;
import quasiroll.cluster.wire.ToWorker.AssignShard;
import quasiroll.cluster.wire.ToWorker.Welcome;
import quasiroll.cluster.wire.WorkerInfo;
import quasiroll.coordinator.events.JobEventLog;
import quasiroll.coordinator.events.JobEventLogs;
import quasiroll.v1.JobSpec;
import quasiroll.v1.JobState;
import quasiroll.v1.JobStatus;
import quasiroll.v1.Prompt;
import quasiroll.v1.SampleResult;

/**
 * The job manager against scripted workers (test probes standing in for worker agents, their data
 * plane messages sent directly): jobs fail instead of spinning, a poison job never hurts a healthy
 * one, forged results are refused, verifiers never block the manager.
 */
class JobManagerTest {
  private static final ActorTestKit KIT =
      ActorTestKit.create(
          ConfigFactory.parseString(
              "pekko.actor.provider = local\n"
                  + "pekko.loglevel = WARNING\n"
                  + "pekko.fail-mixed-versions = off"));

  private static final JobManager.Settings FAST =
      new JobManager.Settings(
          3, 5, Duration.ofMillis(10), Duration.ofMillis(40), 2, Duration.ofMillis(300));

  @TempDir Path dir;
  private SimpleMeterRegistry metrics;
  private ActorRef<ToCoordinator> jm;
  private JobSpecValidator validator;

  @AfterAll
  static void shutdown() {
    KIT.shutdownTestKit();
  }

  @BeforeEach
  void start() {
    metrics = new SimpleMeterRegistry();
    jm = KIT.spawn(JobManager.create(new JobEventLogs(), "127.0.0.1:1", metrics, FAST));
    validator = new JobSpecValidator(JobLimits.DEFAULTS, dir.resolve("data"), dir.resolve("out"));
  }

  private TestProbe<ToWorker> worker(String id, String model, int vocab, int credits) {
    TestProbe<ToWorker> probe = KIT.createTestProbe(ToWorker.class);
    jm.tell(new RegisterWorker(new WorkerInfo(id, model, "cpu", 4, vocab), probe.getRef()));
    probe.expectMessageClass(Welcome.class);
    jm.tell(new JobManager.DataPlaneOpened(id));
    jm.tell(new RequestWork(id, credits));
    return probe;
  }

  private JobManager.Submitted submit(JobSpec.Builder spec) {
    TestProbe<JobManager.Submitted> reply = KIT.createTestProbe(JobManager.Submitted.class);
    jm.tell(new JobManager.Submit(validator.validate(spec.build()), reply.getRef()));
    return reply.receiveMessage();
  }

  private static JobSpec.Builder spec(String model, int k, String... prompts) {
    JobSpec.Builder b = JobSpec.newBuilder().setModel(model).setK(k);
    for (String p : prompts) {
      b.addPrompts(Prompt.newBuilder().setId(p).setText("text of " + p));
    }
    return b;
  }

  private JobStatus status(String jobId) {
    TestProbe<Optional<JobStatus>> reply = KIT.createTestProbe();
    jm.tell(new JobManager.GetStatus(jobId, reply.getRef()));
    return reply.receiveMessage(Duration.ofSeconds(2)).orElseThrow();
  }

  /** The next shard assigned to {@code w} (cancel notices are skipped). */
  private static ShardTask next(TestProbe<ToWorker> w) {
    while (true) {
      ToWorker c = w.receiveMessage(Duration.ofSeconds(5));
      if (c instanceof AssignShard a) {
        return a.task();
      }
    }
  }

  private static SampleResult result(ShardTask t, int index, String text) {
    return SampleHashes.ensure(
        SampleResult.newBuilder()
            .setPromptId(t.promptId())
            .setIndex(index)
            .setText(text)
            .addTokenIds(1)
            .build());
  }

  /** Delivers every sample of a shard as worker {@code workerId} and reports it done. */
  private void complete(String workerId, ShardTask t) {
    for (int i : t.indices()) {
      jm.tell(
          new JobManager.SampleArrived(
              workerId, t.shardId(), result(t, i, t.promptId() + "#" + i)));
    }
    done(workerId, t, "", false);
  }

  private void done(String workerId, ShardTask t, String error, boolean permanent) {
    jm.tell(new JobManager.ShardFinished(workerId, t.shardId(), 0, error, permanent, ack -> {}));
    jm.tell(new RequestWork(workerId, 1));
  }

  private JobStatus awaitFinal(String jobId) {
    long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
    while (System.nanoTime() < deadline) {
      JobStatus s = status(jobId);
      if (s.getState() != JobState.JOB_STATE_QUEUED && s.getState() != JobState.JOB_STATE_RUNNING) {
        return s;
      }
      try {
        Thread.sleep(10);
      } catch (InterruptedException e) {
        throw new AssertionError(e);
      }
    }
    throw new AssertionError("job " + jobId + " did not end: " + status(jobId));
  }

  /** A worker on cluster node {@code uid} (its agent a probe on this node's address). */
  private TestProbe<ToWorker> nodeWorker(String id, long uid) {
    TestProbe<ToWorker> probe = KIT.createTestProbe(ToWorker.class);
    jm.tell(new RegisterWorker(new WorkerInfo(id, "m", "cpu", 4, 0), probe.getRef(), uid));
    probe.expectMessageClass(Welcome.class);
    jm.tell(new JobManager.DataPlaneOpened(id));
    jm.tell(new RequestWork(id, 1));
    return probe;
  }

  private static UniqueAddress node(long uid) {
    return new UniqueAddress(KIT.system().address(), uid);
  }

  @Test
  void aRejoinedWorkerSurvivesItsEarlierIncarnationsRemovalAndRerunsItsShardExactlyOnce() {
    TestProbe<ToWorker> old = nodeWorker("w", 1);
    String id = submit(spec("m", 4, "p")).jobId();
    ShardTask lost = next(old);
    // The node is downed and rejoins at the same address as a new incarnation, which registers
    // before the job manager hears of the old one's removal (the race partition.sh found).
    TestProbe<ToWorker> fresh = nodeWorker("w-r1", 2);
    jm.tell(new JobManager.NodeGone(node(1), "downed"));
    jm.tell(new JobManager.NodeGone(node(1), "removed"));
    ShardTask again = next(fresh);
    assertEquals(List4.of(lost.indices()), List4.of(again.indices()));
    // Late results of the old incarnation are refused; the new one's count once.
    jm.tell(new JobManager.SampleArrived("w", lost.shardId(), result(lost, 0, "late")));
    complete("w-r1", again);
    JobStatus s = awaitFinal(id);
    assertEquals(JobState.JOB_STATE_SUCCEEDED, s.getState());
    assertEquals(4, s.getSamplesDone());
    assertEquals(1.0, metrics.counter("quasiroll_coordinator_refused_results").count());
    // A late registration from the removed incarnation is refused (no Welcome).
    jm.tell(new RegisterWorker(new WorkerInfo("w", "m", "cpu", 4, 0), old.getRef(), 1));
    old.expectNoMessage(Duration.ofMillis(100));
    // The new incarnation keeps getting work, until its own node goes.
    String second = submit(spec("m", 4, "q")).jobId();
    complete("w-r1", next(fresh));
    assertEquals(JobState.JOB_STATE_SUCCEEDED, awaitFinal(second).getState());
    jm.tell(new JobManager.NodeGone(node(2), "removed"));
    String third = submit(spec("m", 4, "r")).jobId();
    assertEquals(JobState.JOB_STATE_QUEUED, status(third).getState());
    fresh.expectNoMessage(Duration.ofMillis(100));
  }

  @Test
  void aPoisonJobFailsWithTheWorkersMessageAfterBoundedAttemptsAndAHealthyJobFinishes() {
    TestProbe<ToWorker> w = worker("w1", "m", 0, 2);
    String poison = submit(spec("m", 4, "bad")).jobId();
    String healthy = submit(spec("m", 8, "a", "b")).jobId();
    Map<String, Integer> assigned = new HashMap<>();
    while (true) {
      ShardTask t = next(w);
      assigned.merge(t.jobId(), 1, Integer::sum);
      if (t.jobId().equals(poison)) {
        done(
            "w1",
            t,
            "BadInputException: prompt 'bad' has 9000 tokens: the context length 4096 leaves no"
                + " room",
            true);
      } else {
        complete("w1", t);
      }
      if (status(healthy).getState() == JobState.JOB_STATE_SUCCEEDED
          && status(poison).getState() == JobState.JOB_STATE_FAILED) {
        break;
      }
    }
    JobStatus failed = awaitFinal(poison);
    assertTrue(
        failed.getError().contains("failed 3 times with a permanent error"), failed.getError());
    assertTrue(
        failed.getError().contains("the context length 4096 leaves no room"), failed.getError());
    assertEquals(3, assigned.get(poison));
    assertEquals(JobState.JOB_STATE_SUCCEEDED, awaitFinal(healthy).getState());
    assertEquals(16, awaitFinal(healthy).getSamplesDone());
  }

  @Test
  void transientErrorsAreRetriedWithBackoffAndTheJobSucceeds() {
    TestProbe<ToWorker> w = worker("w1", "m", 0, 1);
    String id = submit(spec("m", 4, "p")).jobId();
    long start = System.nanoTime();
    for (int attempt = 0; attempt < 3; attempt++) {
      ShardTask t = next(w);
      assertEquals(List4.of(0, 1, 2, 3), List4.of(t.indices()));
      done("w1", t, "CudaException: launch failed", false);
    }
    // Back-off waits 10 + 20 + 40 ms before the fourth run.
    ShardTask t = next(w);
    assertTrue(System.nanoTime() - start >= Duration.ofMillis(70).toNanos());
    complete("w1", t);
    JobStatus s = awaitFinal(id);
    assertEquals(JobState.JOB_STATE_SUCCEEDED, s.getState());
    assertEquals(3, s.getRequeuedShards());
  }

  @Test
  void transientErrorsStillEndTheJobAfterTheirBound() {
    TestProbe<ToWorker> w = worker("w1", "m", 0, 1);
    String id = submit(spec("m", 2, "p")).jobId();
    for (int attempt = 0; attempt < FAST.transientAttempts(); attempt++) {
      done("w1", next(w), "IOException: boom", false);
    }
    JobStatus s = awaitFinal(id);
    assertEquals(JobState.JOB_STATE_FAILED, s.getState());
    assertTrue(
        s.getError().contains("failed 5 times") && s.getError().contains("IOException: boom"),
        s.getError());
    w.expectNoMessage(Duration.ofMillis(100));
  }

  @Test
  void resultsFromAnyoneButTheAssignedWorkerForThatShardAreRefusedAndCounted() {
    TestProbe<ToWorker> w = worker("w1", "m", 0, 1);
    String id = submit(spec("m", 2, "p")).jobId();
    ShardTask t = next(w);
    jm.tell(new JobManager.SampleArrived("intruder", t.shardId(), result(t, 0, "forged")));
    jm.tell(new JobManager.SampleArrived("w1", id + "/s999", result(t, 0, "forged")));
    jm.tell(
        new JobManager.SampleArrived(
            "w1",
            t.shardId(),
            SampleHashes.ensure(
                SampleResult.newBuilder().setPromptId("p").setIndex(5).setText("x").build())));
    jm.tell(
        new JobManager.SampleArrived(
            "w1",
            t.shardId(),
            SampleHashes.ensure(
                SampleResult.newBuilder().setPromptId("other").setIndex(0).setText("x").build())));
    assertEquals(0, status(id).getSamplesDone());
    assertEquals(4.0, metrics.counter("quasiroll_coordinator_refused_results").count());
    complete("w1", t);
    JobStatus s = awaitFinal(id);
    assertEquals(JobState.JOB_STATE_SUCCEEDED, s.getState());
    // A result after the shard finished is stale: refused too.
    jm.tell(new JobManager.SampleArrived("w1", t.shardId(), result(t, 0, "late")));
    status(id);
    assertEquals(5.0, metrics.counter("quasiroll_coordinator_refused_results").count());
  }

  @Test
  void aCatastrophicRegexTimesOutFailsItsJobAndNeverBlocksTheManager() {
    // A verifier limit well above the bound below: a manager that waited on the verifier
    // could not finish the other job in time, however loaded the machine is.
    jm =
        KIT.spawn(
            JobManager.create(
                new JobEventLogs(),
                "127.0.0.1:1",
                metrics,
                new JobManager.Settings(
                    3, 5, Duration.ofMillis(10), Duration.ofMillis(40), 2, Duration.ofSeconds(4))));
    TestProbe<ToWorker> w = worker("w1", "m", 0, 2);
    JobSpec.Builder slow =
        JobSpec.newBuilder()
            .setModel("m")
            .setK(1)
            .addPrompts(
                Prompt.newBuilder()
                    .setId("r")
                    .setText("x")
                    .putMetadata("task", "regex")
                    .putMetadata("pattern", "(.*a){12}")
                    .putMetadata("on", "completion"));
    String slowId = submit(slow).jobId();
    String other = submit(spec("m", 1, "q")).jobId();
    for (int n = 0; n < 2; n++) {
      ShardTask t = next(w);
      jm.tell(new JobManager.SampleArrived("w1", t.shardId(), result(t, 0, "a".repeat(40) + "!")));
      done("w1", t, "", false);
    }
    long start = System.nanoTime();
    assertEquals(JobState.JOB_STATE_SUCCEEDED, awaitFinal(other).getState());
    assertTrue(
        System.nanoTime() - start < Duration.ofMillis(2000).toNanos(),
        "the manager waited on a verifier");
    assertTrue(
        JobEventLog.isFinal(status(slowId).getState()) == false, "the regex is still running");
    JobStatus s = awaitFinal(slowId);
    assertEquals(JobState.JOB_STATE_FAILED, s.getState());
    assertTrue(s.getError().contains("did not finish within 4000 ms"), s.getError());
  }

  @Test
  void promptTokenIdsAreCheckedAgainstTheVocabularyWorkersReport() {
    JobSpec.Builder tokens =
        JobSpec.newBuilder()
            .setModel("m")
            .setK(1)
            .addPrompts(Prompt.newBuilder().setId("t").addTokenIds(3).addTokenIds(100));
    String early = submit(tokens).jobId();
    assertNotNull(early); // no worker yet: the vocabulary is not known
    worker("w1", "m", 64, 1);
    JobStatus s = awaitFinal(early);
    assertEquals(JobState.JOB_STATE_FAILED, s.getState());
    assertTrue(
        s.getError().contains("token_ids[1] 100 is outside the vocabulary")
            && s.getError().contains("[0, 64)"),
        s.getError());
    JobManager.Submitted late = submit(tokens);
    assertNull(late.jobId());
    assertTrue(late.refusal().contains("[0, 64)"), late.refusal());
  }

  @Test
  void aJobWaitingOnWorkersWithoutADataPlaneSaysSo() {
    TestProbe<ToWorker> probe = KIT.createTestProbe(ToWorker.class);
    jm.tell(new RegisterWorker(new WorkerInfo("w1", "m", "cpu", 4, 0), probe.getRef()));
    probe.expectMessageClass(Welcome.class);
    jm.tell(new RequestWork("w1", 1)); // credits, but its data plane stream never opened
    String id = submit(spec("m", 1, "p")).jobId();
    assertTrue(
        status(id).getWaitingReason().contains("none has an open data plane"),
        status(id).getWaitingReason());
    String other = submit(spec("nobody", 1, "p")).jobId();
    assertTrue(status(other).getWaitingReason().contains("no live worker holds model 'nobody'"));
  }

  @Test
  void jobIdsAreRandom128BitValues() {
    String a = submit(spec("m", 1, "p")).jobId();
    String b = submit(spec("m", 1, "p")).jobId();
    assertTrue(a.matches("j-[0-9a-f]{32}"), a);
    assertTrue(!a.equals(b));
  }

  /** Compares int arrays by content in assertEquals. */
  private record List4(java.util.List<Integer> v) {
    static List4 of(int... a) {
      return new List4(java.util.Arrays.stream(a).boxed().toList());
    }
  }

  /** Publishes one streamed F32 tensor to model "m"; the worker probe loads it. */
  private long publishOne(quasiroll.coordinator.policy.PolicyStore store, TestProbe<ToWorker> w) {
    var stream = store.stageStream("m", false);
    stream.accept(
        quasiroll.v1.TensorChunk.newBuilder()
            .setName("w")
            .setDtype("F32")
            .addShape(1)
            .setData(com.google.protobuf.ByteString.copyFrom(new byte[4]))
            .build());
    TestProbe<JobManager.PublishOutcome> reply =
        KIT.createTestProbe(JobManager.PublishOutcome.class);
    jm.tell(
        new JobManager.PublishPolicy(
            stream.finish(), quasiroll.v1.PublishMode.PUBLISH_MODE_WAIT, reply.getRef()));
    while (true) {
      if (w.receiveMessage(Duration.ofSeconds(5)) instanceof ToWorker.LoadPolicy l) {
        jm.tell(
            new ToCoordinator.PolicyLoaded(
                "w1", "m", l.version(), new long[] {0, l.version()}, "", 0));
        break;
      }
    }
    JobManager.PublishOutcome out = reply.receiveMessage(Duration.ofSeconds(5));
    assertEquals("", out.error());
    return out.response().getPolicyVersion();
  }

  @Test
  void unservedPolicyVersionsAreRefusedAtSubmitAndOldOnesCollectedUnlessPinned() {
    var store = new quasiroll.coordinator.policy.PolicyStore(dir.resolve("data"), 1);
    jm =
        KIT.spawn(JobManager.create(new JobEventLogs(), "127.0.0.1:1", metrics, FAST, null, store));
    TestProbe<ToWorker> w = worker("w1", "m", 0, 0);
    assertEquals(1, publishOne(store, w));
    // a job pinned to version 1, its shard assigned and running
    String pinned = submit(spec("m", 2, "p").setPolicyVersion(1)).jobId();
    assertNotNull(pinned);
    jm.tell(new RequestWork("w1", 1));
    ShardTask t = next(w);
    assertEquals(1, t.policyVersion());
    assertEquals(2, publishOne(store, w));
    assertEquals(3, publishOne(store, w));
    // keep-versions 1: version 2 is gone, version 1 is pinned, 3 is the newest
    assertNull(store.version("m", 2));
    assertNotNull(store.version("m", 1));
    assertNotNull(store.version("m", 3));
    JobManager.Submitted gone = submit(spec("m", 2, "q").setPolicyVersion(2));
    assertNull(gone.jobId());
    assertTrue(
        gone.refusal()
            .contains(
                "policy_version 2 of model 'm' is invalid: it is no longer served (served versions:"
                    + " [1, 3]; the newest is 3)"),
        gone.refusal());
    JobManager.Submitted never = submit(spec("m", 2, "q").setPolicyVersion(9));
    assertNull(never.jobId());
    assertTrue(
        never
            .refusal()
            .contains(
                "policy_version 9 of model 'm' is invalid: it was never published (the newest is"
                    + " 3)"),
        never.refusal());
    assertEquals(JobState.JOB_STATE_RUNNING, status(pinned).getState());
    // version 3 (served) and 0 (the start-up weights) are accepted
    assertNotNull(submit(spec("m", 2, "r").setPolicyVersion(3)).jobId());
    assertNotNull(submit(spec("m", 2, "s").setPolicyVersion(0)).jobId());
    // the pinned job ends: the next publish collects version 1
    for (int i : t.indices()) {
      SampleResult r =
          SampleResult.newBuilder()
              .setPromptId(t.promptId())
              .setIndex(i)
              .setText("x")
              .addTokenIds(1)
              .setPolicyVersion(t.policyVersion())
              .build();
      jm.tell(new JobManager.SampleArrived("w1", t.shardId(), SampleHashes.ensure(r)));
    }
    done("w1", t, "", false);
    assertEquals(JobState.JOB_STATE_SUCCEEDED, awaitFinal(pinned).getState());
    assertEquals(4, publishOne(store, w));
    assertNull(store.version("m", 1));
    assertNotNull(store.version("m", 3), "pinned by the job of prompt r");
    assertNotNull(store.version("m", 4));
  }
}
