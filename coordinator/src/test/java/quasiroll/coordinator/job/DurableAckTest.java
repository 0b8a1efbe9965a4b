package quasiroll.coordinator.job;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.ConfigFactory;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
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
import quasiroll.coordinator.events.JobEventLogs;
import quasiroll.coordinator.store.JobStore;
import quasiroll.v1.JobEvent;
import quasiroll.v1.JobSpec;
import quasiroll.v1.Prompt;
import quasiroll.v1.SampleResult;

/**
 * The job store's writes run on a writer thread with group commit, and what depends on a commit
 * still waits for it: a shard's ack and a submit's reply are sent only once another connection to
 * the store file can read what they acknowledge.
 */
class DurableAckTest {
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

  /** The sample events of a job that a fresh connection to the store file reads. */
  private static long storedSamples(Path file, String jobId) {
    try (JobStore reader = JobStore.open(file)) {
      return reader.events(jobId).stream().filter(JobEvent::hasSample).count();
    }
  }

  @Test
  void acksAndRepliesFollowTheCommitOfWhatTheyAcknowledge() throws Exception {
    Path file = dir.resolve("jobs.db");
    JobStore store = JobStore.open(file);
    ActorRef<ToCoordinator> jm =
        KIT.spawn(
            JobManager.create(
                new JobEventLogs(store),
                "127.0.0.1:1",
                new SimpleMeterRegistry(),
                JobManager.Settings.DEFAULTS,
                new JobSpecValidator(JobLimits.DEFAULTS, dir, dir.resolve("out"))));
    TestProbe<ToWorker> worker = KIT.createTestProbe(ToWorker.class);
    jm.tell(new RegisterWorker(new WorkerInfo("w1", "m", "cpu", 4, 0), worker.getRef()));
    worker.expectMessageClass(Welcome.class);
    jm.tell(new JobManager.DataPlaneOpened("w1"));

    TestProbe<JobManager.Submitted> reply = KIT.createTestProbe(JobManager.Submitted.class);
    JobSpec spec =
        JobSpec.newBuilder()
            .setModel("m")
            .setK(8)
            .addPrompts(Prompt.newBuilder().setId("a").setText("A"))
            .addPrompts(Prompt.newBuilder().setId("b").setText("B"))
            .build();
    jm.tell(
        new JobManager.Submit(
            new JobSpecValidator(JobLimits.DEFAULTS, dir, dir.resolve("out")).validate(spec),
            "alice",
            reply.getRef()));
    String id = reply.receiveMessage().jobId();
    try (JobStore reader = JobStore.open(file)) {
      assertTrue(reader.job(id) != null, "the job is stored when its id is returned");
    }

    // Four shards of 4; all their samples and ends sent back to back, so that commits can be
    // shared. Each ack records what a fresh connection reads when it runs.
    jm.tell(new RequestWork("w1", 4));
    List<ShardTask> shards = new ArrayList<>();
    while (shards.size() < 4) {
      if (worker.receiveMessage(Duration.ofSeconds(5)) instanceof AssignShard a) {
        shards.add(a.task());
      }
    }
    LinkedBlockingQueue<long[]> acked = new LinkedBlockingQueue<>();
    long sent = 0;
    for (ShardTask t : shards) {
      List<SampleResult> results = new ArrayList<>();
      for (int i : t.indices()) {
        results.add(
            SampleHashes.ensure(
                SampleResult.newBuilder()
                    .setPromptId(t.promptId())
                    .setIndex(i)
                    .setText(t.promptId() + "#" + i)
                    .addTokenIds(i)
                    .build()));
      }
      sent += results.size();
      long expected = sent;
      jm.tell(
          new JobManager.ResultsArrived(
              "w1",
              t.shardId(),
              results,
              new JobManager.ShardFinished(
                  "w1",
                  t.shardId(),
                  results.size(),
                  "",
                  false,
                  ack ->
                      acked.add(
                          new long[] {ack.getAccepted(), expected, storedSamples(file, id)}))));
    }
    for (int s = 0; s < 4; s++) {
      long[] a = acked.poll(10, TimeUnit.SECONDS);
      assertTrue(a != null, "ack " + s + " arrived");
      assertEquals(4, a[0], "the ack counts the shard's 4 samples");
      assertTrue(
          a[2] >= a[1],
          "when a shard is acked, a fresh connection reads at least the "
              + a[1]
              + " samples sent up to its end; it read "
              + a[2]);
    }
    KIT.stop(jm, Duration.ofSeconds(5));
    store.close();
    assertEquals(16, storedSamples(file, id));
  }

  @Test
  void aCutPublishesOnlyTheEventsStagedBeforeIt() {
    try (JobStore store = JobStore.open(dir.resolve("s.db"))) {
      JobEventLogs logs = new JobEventLogs(store);
      store.stageJob("j1", "alice", JobSpec.getDefaultInstance(), null, 0);
      var log = logs.create("j1", "alice");
      log.append(JobEvent.newBuilder().setSample(SampleResult.newBuilder().setIndex(0)));
      log.append(JobEvent.newBuilder().setSample(SampleResult.newBuilder().setIndex(1)));
      JobEventLogs.Cut first = logs.cut();
      log.append(JobEvent.newBuilder().setSample(SampleResult.newBuilder().setIndex(2)));
      JobEventLogs.Cut second = logs.cut();
      assertEquals(0, log.size(), "nothing visible before a commit");

      store.write(List.of(first.batch()));
      first.publish();
      assertEquals(2, log.size(), "the first cut's two events, not the one staged after it");
      assertEquals(2, store.events("j1").size());

      store.write(List.of(second.batch()));
      second.publish();
      assertEquals(3, log.size());
      assertEquals(2, log.get(2).getSample().getIndex());
      assertEquals(3, store.events("j1").size());
    }
  }
}
