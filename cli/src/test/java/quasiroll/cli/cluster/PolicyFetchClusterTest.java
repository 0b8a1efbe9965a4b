package quasiroll.cli.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.StreamObserver;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import quasiroll.common.safetensors.SafetensorsHeader;
import quasiroll.v1.DecodeParams;
import quasiroll.v1.JobEvent;
import quasiroll.v1.JobSpec;
import quasiroll.v1.JobState;
import quasiroll.v1.Prompt;
import quasiroll.v1.PublishPolicyRequest;
import quasiroll.v1.PublishPolicyResponse;
import quasiroll.v1.QuasirollServiceGrpc;
import quasiroll.v1.SampleResult;
import quasiroll.v1.SamplerSpec;
import quasiroll.v1.SubmitJobRequest;
import quasiroll.v1.TensorChunk;

/**
 * A worker that never reads the coordinator's data directory ({@code quasiroll.worker.policy-fetch
 * = always}, as on another machine) gets published versions over the data plane: a version that
 * republishes a tensor unchanged samples exactly like version 0, one that changes it samples
 * differently, and the worker's cache holds the fetched files of loaded versions only. One
 * coordinator and one demo worker as separate JVMs.
 */
@Timeout(value = 300, unit = TimeUnit.SECONDS)
class PolicyFetchClusterTest {
  private static final String TENSOR = "model.norm.weight";

  @Test
  void aWorkerWithoutTheCoordinatorsFilesFetchesAndServesPublishedVersions() throws Exception {
    Path model = Path.of("..", "models", "demo").toAbsolutePath().normalize();
    Path weights = model.resolve("model.safetensors");
    Assumptions.assumeTrue(Files.isRegularFile(weights), "the bundled demo model");
    Path dir = Files.createTempDirectory("quasiroll-policy-fetch-test");
    Path cache = dir.resolve("worker-cache");
    try {
      exercise(dir, model, weights, cache);
    } finally {
      try (Stream<Path> s = Files.walk(dir)) {
        s.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
      }
    }
  }

  private void exercise(Path dir, Path model, Path weights, Path cache) throws Exception {
    try (ClusterProcesses cluster =
        new ClusterProcesses(
            dir,
            List.of(
                "-Dquasiroll.worker.policy-fetch=always",
                "-Dquasiroll.worker.policy-cache-dir=" + cache),
            Map.of())) {
      cluster.startCoordinator();
      cluster.startWorker("fetch-worker", model.toString(), 8);
      ClusterProcesses.await(
          "coordinator and 1 demo worker",
          Duration.ofSeconds(150),
          () -> cluster.metric("quasiroll_coordinator_live_workers") == 1);
      ManagedChannel channel =
          NettyChannelBuilder.forAddress("127.0.0.1", cluster.grpcPort).usePlaintext().build();
      try {
        String id = model.toString();
        SafetensorsHeader.Entry e = SafetensorsHeader.read(weights).tensors().get(TENSOR);
        assertEquals("F32", e.dtype());
        byte[] same = new byte[(int) e.bytes()];
        try (FileChannel ch = FileChannel.open(weights)) {
          ch.read(ByteBuffer.wrap(same), e.begin());
        }
        byte[] doubled = same.clone();
        ByteBuffer d = ByteBuffer.wrap(doubled).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < doubled.length; i += 4) {
          d.putFloat(i, 2 * d.getFloat(i));
        }

        List<List<Integer>> v0 = run(channel, id, 0);
        PublishPolicyResponse r1 = publish(channel, id, e, same);
        assertEquals(1, r1.getPolicyVersion());
        assertEquals(1, r1.getWorkers(), "the worker loaded version 1");
        assertEquals(1, fetchedFiles(cache), "version 1's file was fetched into the cache");
        assertEquals(v0, run(channel, id, 1), "an unchanged tensor fetched decodes like v0");

        PublishPolicyResponse r2 = publish(channel, id, e, doubled);
        assertEquals(2, r2.getPolicyVersion());
        assertEquals(1, r2.getWorkers());
        assertNotEquals(v0, run(channel, id, 2), "the fetched changed tensor is used");
        assertTrue(fetchedFiles(cache) >= 1 && fetchedFiles(cache) <= 2, "" + fetchedFiles(cache));
      } finally {
        channel.shutdownNow().awaitTermination(2, TimeUnit.SECONDS);
      }
    }
  }

  private static long fetchedFiles(Path cache) throws Exception {
    try (Stream<Path> s = Files.walk(cache)) {
      return s.filter(p -> p.toString().endsWith(".safetensors")).count();
    }
  }

  private static PublishPolicyResponse publish(
      ManagedChannel channel, String modelId, SafetensorsHeader.Entry e, byte[] data)
      throws Exception {
    CompletableFuture<PublishPolicyResponse> done = new CompletableFuture<>();
    StreamObserver<PublishPolicyRequest> req =
        QuasirollServiceGrpc.newStub(channel)
            .withDeadlineAfter(60, TimeUnit.SECONDS)
            .publishPolicy(
                new StreamObserver<>() {
                  @Override
                  public void onNext(PublishPolicyResponse r) {
                    done.complete(r);
                  }

                  @Override
                  public void onError(Throwable t) {
                    done.completeExceptionally(t);
                  }

                  @Override
                  public void onCompleted() {}
                });
    req.onNext(PublishPolicyRequest.newBuilder().setModelId(modelId).setPartial(true).build());
    TensorChunk.Builder c = TensorChunk.newBuilder().setName(e.name()).setDtype(e.dtype());
    for (long s : e.shape()) {
      c.addShape(s);
    }
    req.onNext(
        PublishPolicyRequest.newBuilder()
            .setChunk(c.setOffset(0).setData(ByteString.copyFrom(data)))
            .build());
    req.onCompleted();
    return done.get(90, TimeUnit.SECONDS);
  }

  private static List<List<Integer>> run(ManagedChannel channel, String modelId, long version) {
    JobSpec spec =
        JobSpec.newBuilder()
            .setModel(modelId)
            .setK(8)
            .setSeed(11)
            .setPolicyVersion(version)
            .setSampler(SamplerSpec.newBuilder().setKind("lattice"))
            .setDecode(DecodeParams.newBuilder().setMaxNewTokens(16).setTemperature(1.0f))
            .addPrompts(Prompt.newBuilder().setId("p").setText("Q: 2+3=? A:"))
            .build();
    Iterator<JobEvent> it =
        QuasirollServiceGrpc.newBlockingStub(channel)
            .withDeadlineAfter(90, TimeUnit.SECONDS)
            .submitAndStream(SubmitJobRequest.newBuilder().setSpec(spec).build());
    List<SampleResult> samples = new ArrayList<>();
    JobState end = null;
    while (it.hasNext()) {
      JobEvent ev = it.next();
      if (ev.hasSample()) {
        samples.add(ev.getSample());
      } else if (ev.hasStatus()) {
        end = ev.getStatus().getState();
      }
    }
    assertEquals(JobState.JOB_STATE_SUCCEEDED, end);
    assertEquals(8, samples.size());
    samples.sort(Comparator.comparingInt(SampleResult::getIndex));
    List<List<Integer>> out = new ArrayList<>();
    for (SampleResult s : samples) {
      assertEquals(version, s.getPolicyVersion());
      out.add(s.getTokenIdsList());
    }
    return out;
  }
}
