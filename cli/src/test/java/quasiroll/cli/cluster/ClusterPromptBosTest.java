package quasiroll.cli.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import quasiroll.cli.PromptBos;
import quasiroll.v1.DecodeParams;
import quasiroll.v1.JobEvent;
import quasiroll.v1.JobSpec;
import quasiroll.v1.JobState;
import quasiroll.v1.Prompt;
import quasiroll.v1.QuasirollServiceGrpc;
import quasiroll.v1.SampleResult;
import quasiroll.v1.SamplerSpec;
import quasiroll.v1.SubmitJobRequest;

/**
 * Cluster jobs encode a text prompt as the model's tokenizer configuration says: a worker on a
 * Llama 3 style model (BOS in the post-processor template and {@code add_bos_token}) and one on a
 * Qwen2 style model (no BOS), as separate processes. The same job with the prompt given as token
 * ids (taken as they are) with BOS prepended exactly where the convention says must give identical
 * samples; the ids of the other choice must not.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Timeout(value = 150, unit = TimeUnit.SECONDS)
class ClusterPromptBosTest {
  private Path dir;
  private Path llama;
  private Path qwen;
  private ClusterProcesses cluster;
  private ManagedChannel channel;
  private QuasirollServiceGrpc.QuasirollServiceBlockingStub api;

  @BeforeAll
  void startCluster() throws Exception {
    dir = Files.createTempDirectory("quasiroll-bos-test");
    llama = PromptBos.fixture(dir, true);
    qwen = PromptBos.fixture(dir, false);
    cluster = new ClusterProcesses(dir);
    cluster.startCoordinator();
    cluster.startWorker("bos-llama", llama.toString(), 8);
    cluster.startWorker("bos-qwen", qwen.toString(), 8);
    ClusterProcesses.await(
        "coordinator and 2 workers",
        Duration.ofSeconds(120),
        () -> cluster.metric("quasiroll_coordinator_live_workers") == 2);
    channel = NettyChannelBuilder.forAddress("127.0.0.1", cluster.grpcPort).usePlaintext().build();
    api = QuasirollServiceGrpc.newBlockingStub(channel);
  }

  @AfterAll
  void stopCluster() throws Exception {
    if (channel != null) {
      channel.shutdownNow().awaitTermination(2, TimeUnit.SECONDS);
    }
    if (cluster != null) {
      cluster.close();
    }
  }

  private List<String> run(Path model, Prompt prompt) {
    JobSpec spec =
        JobSpec.newBuilder()
            .setModel(model.toString())
            .setK(PromptBos.K)
            .setSeed(PromptBos.SEED)
            .setSampler(SamplerSpec.newBuilder().setKind("lattice"))
            .setDecode(
                DecodeParams.newBuilder().setMaxNewTokens(PromptBos.MAX_NEW).setTemperature(1.0f))
            .addPrompts(prompt)
            .build();
    Iterator<JobEvent> it =
        api.submitAndStream(SubmitJobRequest.newBuilder().setSpec(spec).build());
    List<SampleResult> samples = new ArrayList<>();
    JobState end = null;
    while (it.hasNext()) {
      JobEvent e = it.next();
      if (e.hasSample()) {
        samples.add(e.getSample());
      } else if (e.hasStatus()) {
        end = e.getStatus().getState();
      }
    }
    assertEquals(JobState.JOB_STATE_SUCCEEDED, end);
    samples.sort(Comparator.comparingInt(SampleResult::getIndex));
    return PromptBos.contents(samples);
  }

  private static Prompt ids(int[] ids) {
    Prompt.Builder b = Prompt.newBuilder().setId("prompt");
    for (int id : ids) {
      b.addTokenIds(id);
    }
    return b.build();
  }

  @ParameterizedTest(name = "llama3 style = {0}")
  @ValueSource(booleans = {true, false})
  void textPromptOnAWorkerIsEncodedAsTheTokenizerConfigurationSays(boolean isLlama) {
    Path model = isLlama ? llama : qwen;
    List<String> text =
        run(model, Prompt.newBuilder().setId("prompt").setText(PromptBos.TEXT).build());
    assertEquals(PromptBos.K, text.size());
    assertEquals(
        run(model, ids(PromptBos.ids(model, isLlama))),
        text,
        "text prompt vs the same prompt as ids");
    assertNotEquals(
        run(model, ids(PromptBos.ids(model, !isLlama))),
        text,
        "the fixture must tell BOS from no BOS");
  }
}
