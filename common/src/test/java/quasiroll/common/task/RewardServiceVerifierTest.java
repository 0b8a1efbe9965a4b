package quasiroll.common.task;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.grpc.Server;
import io.grpc.ServerBuilder;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import quasiroll.common.task.custom.RewardServiceException;
import quasiroll.common.task.registry.Verifiers;
import quasiroll.v1.RewardServiceGrpc;
import quasiroll.v1.ScoreItem;
import quasiroll.v1.ScoreRequest;
import quasiroll.v1.ScoreResponse;

/** Talks to a real RewardService over a localhost socket, as a user's service would run. */
class RewardServiceVerifierTest {
  private static final List<ScoreItem> SEEN = new CopyOnWriteArrayList<>();
  private static Server server;
  private static String endpoint;

  /** Rewards completions by their text: "good" 1, "half" 0.5, "big" 7 (clamped), "fail" errors. */
  static final class FakeService extends RewardServiceGrpc.RewardServiceImplBase {
    @Override
    public void score(ScoreRequest request, StreamObserver<ScoreResponse> out) {
      ScoreResponse.Builder r = ScoreResponse.newBuilder();
      for (ScoreItem item : request.getItemsList()) {
        SEEN.add(item);
        switch (item.getCompletion()) {
          case "fail" -> {
            out.onError(Status.INTERNAL.withDescription("boom").asRuntimeException());
            return;
          }
          case "none" -> {
            out.onNext(r.build());
            out.onCompleted();
            return;
          }
          case "good" -> r.addRewards(1.0);
          case "half" -> r.addRewards(0.5);
          case "big" -> r.addRewards(7.0);
          default -> r.addRewards(-1.0);
        }
      }
      out.onNext(r.build());
      out.onCompleted();
    }
  }

  @BeforeAll
  static void start() throws Exception {
    server = ServerBuilder.forPort(0).addService(new FakeService()).build().start();
    endpoint = "localhost:" + server.getPort();
  }

  @AfterAll
  static void stop() {
    server.shutdownNow();
  }

  @Test
  void scoresThroughTheServiceAndPassesMetadata() {
    Map<String, String> meta = Map.of("task", "service", "endpoint", endpoint, "gold", "42");
    Verifier v = Verifiers.forPrompt("p1", "What is 6*7?", meta);
    SEEN.clear();
    assertEquals(1.0, v.reward("good"));
    assertEquals(0.5, v.reward("half"));
    assertEquals(1.0, v.reward("big"), "clamped to 1");
    assertEquals(0.0, v.reward("bad"), "clamped to 0");
    ScoreItem first = SEEN.get(0);
    assertEquals("p1", first.getPromptId());
    assertEquals("What is 6*7?", first.getPrompt());
    assertEquals("good", first.getCompletion());
    assertEquals(meta, first.getMetadataMap());
  }

  @Test
  void serviceFailuresAreErrorsNotZeroRewards() {
    Verifier v = Verifiers.forMetadata(Map.of("task", "service", "endpoint", endpoint));
    RewardServiceException e = assertThrows(RewardServiceException.class, () -> v.reward("fail"));
    assertTrue(
        e.getMessage().contains("boom") && e.getMessage().contains(endpoint), e.getMessage());
    e = assertThrows(RewardServiceException.class, () -> v.reward("none"));
    assertTrue(e.getMessage().contains("exactly one"), e.getMessage());
  }

  @Test
  void unreachableServiceFailsWithinTheTimeout() {
    Verifier v =
        Verifiers.forMetadata(
            Map.of("task", "service", "endpoint", "localhost:1", "timeout_ms", "2000"));
    assertThrows(RewardServiceException.class, () -> v.reward("good"));
  }
}
