package quasiroll.coordinator.api;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import quasiroll.coordinator.events.JobEventLog;
import quasiroll.coordinator.events.JobEventLogs;
import quasiroll.coordinator.job.JobLimits;
import quasiroll.coordinator.job.JobSpecValidator;
import quasiroll.coordinator.store.JobStore;
import quasiroll.v1.GroupSummary;
import quasiroll.v1.JobEvent;
import quasiroll.v1.JobEventBatch;
import quasiroll.v1.JobState;
import quasiroll.v1.JobStatus;
import quasiroll.v1.NoiseKey;
import quasiroll.v1.QuasirollServiceGrpc;
import quasiroll.v1.SampleResult;
import quasiroll.v1.StreamJobRequest;

/**
 * The event streams send each event's stored encoding instead of serializing it again: a client
 * must receive exactly the events that were appended, byte for byte, in offset order, whether one
 * per message (StreamJob) or batched (StreamJobBatches), from any offset, including events so old
 * that they are read back from the job store rather than memory.
 */
class EventStreamsTest {
  private static final int EVENTS = 3001; // > JobEventLog's in-memory window

  @TempDir Path dir;
  private Server server;
  private ManagedChannel channel;
  private JobStore store;

  @AfterEach
  void stop() {
    channel.shutdownNow();
    server.shutdownNow();
    store.close();
  }

  @Test
  void bothStreamsSendExactlyTheAppendedEventsFromAnyOffset() throws Exception {
    JobEventLogs logs = logsOfOneJob();
    JobEventLog log = logs.create("j1");
    List<JobEvent> appended = new ArrayList<>();
    for (int i = 0; i < EVENTS; i++) {
      JobEvent.Builder e = event(i, i == EVENTS - 1);
      log.append(e);
      appended.add(e.build());
      if (i % 700 == 0) {
        logs.commit(); // several commits: the window trims older events to the store
      }
    }
    logs.commit();
    assertTrue(log.finished());
    QuasirollServiceGrpc.QuasirollServiceBlockingStub stub = serve(logs);
    for (long from : new long[] {0, 1, 1500, EVENTS - 1025, EVENTS - 1}) {
      StreamJobRequest req =
          StreamJobRequest.newBuilder().setJobId("j1").setFromOffset(from).build();
      List<JobEvent> want = appended.subList((int) from, EVENTS);
      List<JobEvent> single = new ArrayList<>();
      stub.streamJob(req).forEachRemaining(single::add);
      assertEncodedEqual(want, single);
      List<JobEventBatch> batches = new ArrayList<>();
      stub.streamJobBatches(req).forEachRemaining(batches::add);
      List<JobEvent> batched = new ArrayList<>();
      for (int i = 0; i < batches.size(); i++) {
        JobEventBatch b = batches.get(i);
        batched.addAll(b.getEventsList());
        // Everything was committed before the stream started: every batch but the last is full
        // (its event limit, or its byte limit reached by its last event and not before).
        assertTrue(b.getEventsCount() > 0, "an empty batch");
        if (i < batches.size() - 1 && b.getEventsCount() < EventStreamer.BATCH_EVENTS) {
          assertTrue(b.getSerializedSize() >= EventStreamer.BATCH_BYTES, "batch " + i);
          JobEvent lastOne = b.getEvents(b.getEventsCount() - 1);
          int before =
              b.getSerializedSize()
                  - com.google.protobuf.CodedOutputStream.computeMessageSize(1, lastOne);
          assertTrue(before < EventStreamer.BATCH_BYTES, "batch " + i);
        }
      }
      assertEncodedEqual(want, batched);
    }
  }

  @Test
  void aBatchStopsGrowingAtItsByteLimit() throws Exception {
    JobEventLogs logs = logsOfOneJob();
    JobEventLog log = logs.create("j1");
    List<JobEvent> appended = new ArrayList<>();
    String big = "x".repeat(100_000);
    for (int i = 0; i < 10; i++) {
      JobEvent.Builder e =
          i == 9
              ? event(i, true)
              : JobEvent.newBuilder()
                  .setSample(SampleResult.newBuilder().setPromptId("p").setIndex(i).setText(big));
      log.append(e);
      appended.add(e.build());
    }
    logs.commit();
    List<Integer> sizes = new ArrayList<>();
    List<JobEvent> got = new ArrayList<>();
    serve(logs)
        .streamJobBatches(StreamJobRequest.newBuilder().setJobId("j1").build())
        .forEachRemaining(
            b -> {
              sizes.add(b.getEventsCount());
              got.addAll(b.getEventsList());
            });
    assertEncodedEqual(appended, got);
    // ~100 kB events: a batch closes once it holds >= 256 KiB, i.e. after the third.
    assertEquals(List.of(3, 3, 3, 1), sizes);
  }

  /** Event logs over a fresh store that holds one staged job, "j1". */
  private JobEventLogs logsOfOneJob() throws Exception {
    store = JobStore.open(dir.resolve("jobs.db"));
    store.stageJob("j1", "local", quasiroll.v1.JobSpec.getDefaultInstance(), "", 0);
    return new JobEventLogs(store);
  }

  private QuasirollServiceGrpc.QuasirollServiceBlockingStub serve(JobEventLogs logs)
      throws Exception {
    var api =
        new ClientApiService(
            new JobSpecValidator(JobLimits.DEFAULTS, dir, dir.resolve("out")),
            null,
            null,
            logs,
            Executors.newSingleThreadExecutor());
    String name = InProcessServerBuilder.generateName();
    server = InProcessServerBuilder.forName(name).addService(api).build().start();
    channel = InProcessChannelBuilder.forName(name).build();
    return QuasirollServiceGrpc.newBlockingStub(channel);
  }

  private static void assertEncodedEqual(List<JobEvent> want, List<JobEvent> got) {
    assertEquals(want.size(), got.size());
    for (int i = 0; i < want.size(); i++) {
      assertEquals(want.get(i), got.get(i));
      assertArrayEquals(want.get(i).toByteArray(), got.get(i).toByteArray());
    }
  }

  /** A varied event: samples of different sizes, group summaries, a final status last. */
  private static JobEvent.Builder event(int i, boolean last) {
    if (last) {
      return JobEvent.newBuilder()
          .setStatus(JobStatus.newBuilder().setJobId("j1").setState(JobState.JOB_STATE_SUCCEEDED));
    }
    if (i % 17 == 16) {
      return JobEvent.newBuilder().setGroup(GroupSummary.newBuilder().setPromptId("p" + i / 17));
    }
    SampleResult.Builder s =
        SampleResult.newBuilder()
            .setJobId("j1")
            .setPromptId("p" + i / 17)
            .setIndex(i % 17)
            .setNoiseKey(NoiseKey.newBuilder().setJobSeed(-i).setK(16))
            .setText("é\n".repeat(i % 90))
            .setContentHash(ByteString.copyFrom(new byte[] {(byte) i, 1, 2}));
    for (int t = 0; t < i % 40; t++) {
      s.addTokenIds(t * i).addRawLogprobs(-t / 7f).addProcessedLogprobs(-t / 9f);
    }
    return JobEvent.newBuilder().setSample(s);
  }
}
