package quasiroll.coordinator.job;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.ConfigFactory;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
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
import quasiroll.common.task.Verifier;
import quasiroll.coordinator.events.JobEventLogs;
import quasiroll.v1.JobSpec;
import quasiroll.v1.JobState;
import quasiroll.v1.JobStatus;
import quasiroll.v1.OutputSinks;
import quasiroll.v1.Prompt;
import quasiroll.v1.SampleResult;

/**
 * Back-pressure and off-actor I/O in the job manager, against scripted workers: slow verifiers hold
 * back their own job's shards (the verifier queue stays bounded) while other jobs go on; a job
 * whose verifier times out fails clearly beside a verified job that finishes; a job with a sink
 * succeeds only once every group is on disk.
 */
class JobManagerBackPressureTest {
  private static final ActorTestKit KIT =
      ActorTestKit.create(
          ConfigFactory.parseString(
              "pekko.actor.provider = local\n"
                  + "pekko.loglevel = WARNING\n"
                  + "pekko.fail-mixed-versions = off"));

  @TempDir Path dir;

  @AfterAll
  static void shutdown() {
    KIT.shutdownTestKit();
  }

  private static JobManager.Settings settings(int threads, Duration timeout, int queue) {
    return new JobManager.Settings(
        3, 5, Duration.ofMillis(10), Duration.ofMillis(40), threads, timeout, queue, 2, 16);
  }

  /** Blocks until opened; counts calls. An interrupt (timeout) makes it throw. */
  private static final class Gate implements Verifier {
    final CountDownLatch open = new CountDownLatch(1);
    final AtomicInteger calls = new AtomicInteger();

    @Override
    public double reward(String text) {
      calls.incrementAndGet();
      try {
        open.await();
      } catch (InterruptedException e) {
        throw new IllegalStateException("interrupted", e);
      }
      return text.length() % 2;
    }
  }

  private static final class Manager {
    final ActorRef<ToCoordinator> jm;
    final SimpleMeterRegistry metrics = new SimpleMeterRegistry();

    Manager(JobManager.Settings s) {
      jm = KIT.spawn(JobManager.create(new JobEventLogs(), "127.0.0.1:1", metrics, s));
    }

    TestProbe<ToWorker> worker(String id, int capacity, int credits) {
      TestProbe<ToWorker> probe = KIT.createTestProbe(ToWorker.class);
      jm.tell(new RegisterWorker(new WorkerInfo(id, "m", "cpu", capacity, 0), probe.getRef()));
      probe.expectMessageClass(Welcome.class);
      jm.tell(new JobManager.DataPlaneOpened(id));
      jm.tell(new RequestWork(id, credits));
      return probe;
    }

    String submit(ValidatedJob job) {
      TestProbe<JobManager.Submitted> reply = KIT.createTestProbe(JobManager.Submitted.class);
      jm.tell(new JobManager.Submit(job, reply.getRef()));
      JobManager.Submitted s = reply.receiveMessage();
      assertTrue(s.jobId() != null, s.refusal());
      return s.jobId();
    }

    JobStatus status(String jobId) {
      TestProbe<Optional<JobStatus>> reply = KIT.createTestProbe();
      jm.tell(new JobManager.GetStatus(jobId, reply.getRef()));
      return reply.receiveMessage(Duration.ofSeconds(5)).orElseThrow();
    }

    JobStatus awaitFinal(String jobId, Duration limit) {
      long deadline = System.nanoTime() + limit.toNanos();
      while (System.nanoTime() < deadline) {
        JobStatus s = status(jobId);
        if (s.getState() != JobState.JOB_STATE_QUEUED
            && s.getState() != JobState.JOB_STATE_RUNNING) {
          return s;
        }
        sleep(10);
      }
      throw new AssertionError("job " + jobId + " did not end: " + status(jobId));
    }

    void complete(String workerId, ShardTask t) {
      for (int i : t.indices()) {
        jm.tell(
            new JobManager.SampleArrived(
                workerId,
                t.shardId(),
                SampleHashes.ensure(
                    SampleResult.newBuilder()
                        .setPromptId(t.promptId())
                        .setIndex(i)
                        .setText(t.promptId() + "#" + i)
                        .addTokenIds(1)
                        .build())));
      }
      jm.tell(new JobManager.ShardFinished(workerId, t.shardId(), 0, "", false, ack -> {}));
      jm.tell(new RequestWork(workerId, 1));
    }
  }

  private static void sleep(long ms) {
    try {
      Thread.sleep(ms);
    } catch (InterruptedException e) {
      throw new AssertionError(e);
    }
  }

  private static ValidatedJob job(int prompts, int k, Verifier verifier, Path sink) {
    JobSpec.Builder b = JobSpec.newBuilder().setModel("m").setK(k);
    List<Prompt> ps = new ArrayList<>();
    for (int i = 0; i < prompts; i++) {
      Prompt p = Prompt.newBuilder().setId("p" + i).setText("text " + i).build();
      ps.add(p);
      b.addPrompts(p);
    }
    if (sink != null) {
      b.setSinks(OutputSinks.newBuilder().setJsonlPath(sink.toString()));
    }
    return new ValidatedJob(b.build(), ps, Collections.nCopies(prompts, verifier), sink);
  }

  /** Next shard, or null when none comes within {@code ms}. */
  private static ShardTask next(TestProbe<ToWorker> w, long ms) {
    long deadline = System.nanoTime() + Duration.ofMillis(ms).toNanos();
    while (true) {
      long left = deadline - System.nanoTime();
      if (left <= 0) {
        return null;
      }
      try {
        ToWorker c = w.receiveMessage(Duration.ofNanos(left));
        if (c instanceof AssignShard a) {
          return a.task();
        }
      } catch (AssertionError timeout) {
        return null;
      }
    }
  }

  @Test
  void slowVerifiersHoldBackTheirJobsShardsWhileAnotherJobGoesOn() {
    // queue 8: one job may hold 4 verifier calls, i.e. one shard of 4 samples
    Manager m = new Manager(settings(1, Duration.ofSeconds(60), 8));
    TestProbe<ToWorker> w = m.worker("w1", 4, 6);
    Gate gate = new Gate();
    String slow = m.submit(job(6, 4, gate, null));
    ShardTask first = next(w, 5_000);
    assertEquals(slow, first.jobId());
    assertEquals(null, next(w, 300), "a second shard of the held job was sent");
    m.complete("w1", first); // 4 calls queued behind the closed gate
    assertEquals(null, next(w, 300), "the verifiers are behind: no more shards of that job");
    String other = m.submit(job(2, 4, null, null));
    for (int n = 0; n < 2; n++) {
      ShardTask t = next(w, 5_000);
      assertEquals(other, t.jobId(), "a job without verifiers is not held back");
      m.complete("w1", t);
    }
    assertEquals(
        JobState.JOB_STATE_SUCCEEDED, m.awaitFinal(other, Duration.ofSeconds(10)).getState());
    assertTrue(gate.calls.get() <= 1, "one call runs (one thread), the rest wait: " + gate.calls);
    gate.open.countDown();
    for (int shards = 1; shards < 6; shards++) {
      ShardTask t = next(w, 5_000);
      assertEquals(slow, t.jobId());
      m.complete("w1", t);
    }
    JobStatus s = m.awaitFinal(slow, Duration.ofSeconds(10));
    assertEquals(JobState.JOB_STATE_SUCCEEDED, s.getState());
    assertEquals(24, s.getSamplesDone());
    assertEquals(24, gate.calls.get(), "every sample scored once");
  }

  @Test
  void aJobWhoseVerifierTimesOutFailsClearlyAndAVerifiedJobBesideItFinishes() {
    Manager m = new Manager(settings(2, Duration.ofMillis(300), 64));
    TestProbe<ToWorker> w = m.worker("w1", 4, 8);
    Gate hole = new Gate(); // never opened: a black-holed reward service
    String bad = m.submit(job(4, 4, hole, null));
    String good = m.submit(job(4, 4, text -> 1.0, null));
    long start = System.nanoTime();
    while (m.status(good).getState() == JobState.JOB_STATE_RUNNING
        || m.status(good).getState() == JobState.JOB_STATE_QUEUED
        || m.status(bad).getState() == JobState.JOB_STATE_RUNNING) {
      ShardTask t = next(w, 200);
      if (t != null) {
        m.complete("w1", t);
      }
      assertTrue(System.nanoTime() - start < Duration.ofSeconds(15).toNanos(), "no end");
    }
    JobStatus g = m.awaitFinal(good, Duration.ofSeconds(10));
    assertEquals(JobState.JOB_STATE_SUCCEEDED, g.getState());
    assertEquals(16, g.getSamplesDone());
    JobStatus b = m.awaitFinal(bad, Duration.ofSeconds(10));
    assertEquals(JobState.JOB_STATE_FAILED, b.getState());
    assertTrue(
        b.getError().contains("could not be computed")
            && b.getError().contains("did not finish within 300 ms"),
        b.getError());
    assertTrue(
        Duration.ofNanos(System.nanoTime() - start).toSeconds() < 8,
        "the good job waited on the bad one's backlog");
  }

  @Test
  void aJobWithASinkSucceedsOnlyOnceEveryGroupIsOnDisk() throws Exception {
    Manager m = new Manager(settings(2, Duration.ofSeconds(10), 64));
    TestProbe<ToWorker> w = m.worker("w1", 4, 8);
    Path sink = dir.resolve("out.jsonl");
    String id = m.submit(job(12, 4, null, sink));
    for (int shards = 0; shards < 12; shards++) {
      m.complete("w1", next(w, 5_000));
    }
    JobStatus s = m.awaitFinal(id, Duration.ofSeconds(10));
    assertEquals(JobState.JOB_STATE_SUCCEEDED, s.getState());
    // SUCCEEDED is published after the last group's write and fsync, never before
    List<String> lines = Files.readAllLines(sink);
    assertEquals(48, lines.size());
    assertTrue(Files.readString(sink).endsWith("\n"));
  }
}
