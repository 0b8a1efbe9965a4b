package quasiroll.coordinator.job;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.typesafe.config.ConfigFactory;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.TreeSet;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.junit.jupiter.api.AfterAll;
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
import quasiroll.coordinator.store.JobStore;
import quasiroll.v1.JobEvent;
import quasiroll.v1.JobSpec;
import quasiroll.v1.JobState;
import quasiroll.v1.JobStatus;
import quasiroll.v1.OutputSinks;
import quasiroll.v1.Prompt;
import quasiroll.v1.SampleResult;

/**
 * A coordinator that dies mid-job loses nothing: a new job manager on the same store resumes the
 * job, computes exactly the samples that were never stored, and ends with the same output as an
 * undisturbed run; client streams resume by offset.
 */
class JobManagerRestartTest {
  private static final ActorTestKit KIT =
      ActorTestKit.create(
          ConfigFactory.parseString(
              "pekko.actor.provider = local\n"
                  + "pekko.loglevel = WARNING\n"
                  + "pekko.fail-mixed-versions = off"));
  private static final ObjectMapper JSON = new ObjectMapper();

  @TempDir Path dir;

  @AfterAll
  static void shutdown() {
    KIT.shutdownTestKit();
  }

  private final class Coordinator {
    final JobStore store;
    final JobEventLogs logs;
    final ActorRef<ToCoordinator> jm;
    final TestProbe<ToWorker> worker = KIT.createTestProbe(ToWorker.class);

    Coordinator(String storeName) {
      store = JobStore.open(dir.resolve(storeName));
      logs = new JobEventLogs(store);
      jm =
          KIT.spawn(
              JobManager.create(
                  logs,
                  "127.0.0.1:1",
                  new SimpleMeterRegistry(),
                  JobManager.Settings.DEFAULTS,
                  new JobSpecValidator(JobLimits.DEFAULTS, dir, dir.resolve("out"))));
    }

    void joinWorker(int credits) {
      jm.tell(new RegisterWorker(new WorkerInfo("w1", "m", "cpu", 4, 0), worker.getRef()));
      worker.expectMessageClass(Welcome.class);
      jm.tell(new JobManager.DataPlaneOpened("w1"));
      jm.tell(new RequestWork("w1", credits));
    }

    String submit(JobSpec spec) {
      TestProbe<JobManager.Submitted> reply = KIT.createTestProbe(JobManager.Submitted.class);
      jm.tell(
          new JobManager.Submit(
              new JobSpecValidator(JobLimits.DEFAULTS, dir, dir.resolve("out")).validate(spec),
              "alice",
              reply.getRef()));
      return reply.receiveMessage().jobId();
    }

    ShardTask next() {
      while (true) {
        if (worker.receiveMessage(Duration.ofSeconds(5)) instanceof AssignShard a) {
          return a.task();
        }
      }
    }

    /** The next shard, or null when none comes within {@code wait}. */
    ShardTask poll(Duration wait) {
      long deadline = System.nanoTime() + wait.toNanos();
      for (long left = wait.toNanos(); left > 0; left = deadline - System.nanoTime()) {
        try {
          if (worker.receiveMessage(Duration.ofNanos(left)) instanceof AssignShard a) {
            return a.task();
          }
        } catch (AssertionError none) {
          return null;
        }
      }
      return null;
    }

    void send(ShardTask t, int index) {
      jm.tell(
          new JobManager.SampleArrived(
              "w1",
              t.shardId(),
              SampleHashes.ensure(
                  SampleResult.newBuilder()
                      .setPromptId(t.promptId())
                      .setIndex(index)
                      .setText(t.promptId() + "#" + index)
                      .addTokenIds(index)
                      .build())));
    }

    void finish(ShardTask t) {
      jm.tell(
          new JobManager.ShardFinished("w1", t.shardId(), t.indices().length, "", false, a -> {}));
      jm.tell(new RequestWork("w1", 1));
    }

    JobStatus status(String id) {
      TestProbe<Optional<JobStatus>> reply = KIT.createTestProbe();
      jm.tell(new JobManager.GetStatus(id, reply.getRef()));
      return reply.receiveMessage().orElseThrow();
    }

    JobStatus awaitEnd(String id) throws InterruptedException {
      for (int i = 0; i < 500; i++) {
        JobStatus s = status(id);
        if (JobEventLog.isFinal(s.getState())) {
          return s;
        }
        Thread.sleep(10);
      }
      throw new AssertionError("job did not end: " + status(id));
    }

    /** Kills the job manager: whatever it had not committed is gone. */
    void crash() {
      KIT.stop(jm, Duration.ofSeconds(5));
      store.close();
    }
  }

  private static JobSpec spec(String sink) {
    return JobSpec.newBuilder()
        .setModel("m")
        .setK(8)
        .addPrompts(Prompt.newBuilder().setId("a").setText("A"))
        .addPrompts(Prompt.newBuilder().setId("b").setText("B"))
        .addPrompts(Prompt.newBuilder().setId("c").setText("C"))
        .setSinks(OutputSinks.newBuilder().setJsonlPath(sink))
        .build();
  }

  /** (prompt, index, text) of every sink line, sorted. */
  private TreeSet<String> sinkLines(String name) throws Exception {
    TreeSet<String> out = new TreeSet<>();
    List<String> lines = Files.readAllLines(dir.resolve("out").resolve(name));
    for (String line : lines) {
      JsonNode n = JSON.readTree(line);
      out.add(
          n.get("prompt_id").asText()
              + "/"
              + n.get("index").asInt()
              + "/"
              + n.get("text").asText());
    }
    assertEquals(lines.size(), out.size(), "no line twice");
    return out;
  }

  @Test
  void aRestartedCoordinatorResumesTheJobAndRecomputesOnlyWhatItNeverStored() throws Exception {
    // Undisturbed reference run.
    Coordinator ref = new Coordinator("ref.db");
    ref.joinWorker(1);
    String refId = ref.submit(spec("ref.jsonl"));
    for (int s = 0; s < 6; s++) {
      ShardTask t = ref.next();
      for (int i : t.indices()) {
        ref.send(t, i);
      }
      ref.finish(t);
    }
    assertEquals(JobState.JOB_STATE_SUCCEEDED, ref.awaitEnd(refId).getState());

    // Disturbed run: prompt a complete, half of one shard of b arrived, then a crash.
    Coordinator first = new Coordinator("jobs.db");
    first.joinWorker(1);
    String id = first.submit(spec("run.jsonl"));
    for (int s = 0; s < 2; s++) { // prompt a: two shards of 4
      ShardTask t = first.next();
      assertEquals("a", t.promptId());
      for (int i : t.indices()) {
        first.send(t, i);
      }
      first.finish(t);
    }
    ShardTask b0 = first.next();
    assertEquals("b", b0.promptId());
    first.send(b0, b0.indices()[0]);
    first.send(b0, b0.indices()[1]);
    Thread.sleep(300); // past the commit interval: these two are stored
    first.status(id);
    List<JobEvent> seenBefore = first.logs.get(id).orElseThrow().visible();
    first.crash();

    Coordinator second = new Coordinator("jobs.db");
    JobStatus resumed = second.status(id);
    assertEquals(JobState.JOB_STATE_RUNNING, resumed.getState());
    assertEquals(10, resumed.getSamplesDone());
    assertEquals(1, resumed.getPromptsDone());
    second.joinWorker(1);
    List<String> recomputed = new ArrayList<>();
    while (!JobEventLog.isFinal(second.status(id).getState())) {
      // the job ends once its last group is on disk (written off the actor), a moment after
      // its last shard: no shard coming means waiting for that
      ShardTask t = second.poll(Duration.ofMillis(200));
      if (t == null) {
        continue;
      }
      for (int i : t.indices()) {
        recomputed.add(t.promptId() + i);
        second.send(t, i);
      }
      second.finish(t);
    }
    assertEquals(JobState.JOB_STATE_SUCCEEDED, second.awaitEnd(id).getState());
    assertEquals(14, recomputed.size(), "exactly the 14 samples never stored: " + recomputed);
    assertTrue(
        !recomputed.contains("b" + b0.indices()[0]) && !recomputed.contains("b" + b0.indices()[1]));
    assertEquals(sinkLines("ref.jsonl"), sinkLines("run.jsonl"));

    // The event log continues where the first coordinator's left off: a client that saw
    // offsets 0..n-1 resumes at n, and every sample appears exactly once.
    List<JobEvent> all = second.logs.get(id).orElseThrow().visible();
    for (int i = 0; i < seenBefore.size(); i++) {
      assertEquals(seenBefore.get(i), all.get(i));
    }
    for (int i = 0; i < all.size(); i++) {
      assertEquals(i, all.get(i).getOffset());
    }
    assertEquals(24, all.stream().filter(JobEvent::hasSample).count());
    assertEquals(3, all.stream().filter(JobEvent::hasGroup).count());
    second.crash();

    // A finished job is still served (owner included) after another restart.
    Coordinator third = new Coordinator("jobs.db");
    JobEventLog done = third.logs.get(id).orElseThrow();
    assertTrue(done.finished());
    assertEquals("alice", done.owner());
    assertEquals(all.size(), done.size());
    third.crash();
  }
}
