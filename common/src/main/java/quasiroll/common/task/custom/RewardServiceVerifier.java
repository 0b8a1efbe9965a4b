package quasiroll.common.task.custom;

import io.grpc.Channel;
import io.grpc.StatusRuntimeException;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import quasiroll.common.task.TaskParams;
import quasiroll.common.task.Verifier;
import quasiroll.v1.RewardServiceGrpc;
import quasiroll.v1.ScoreItem;
import quasiroll.v1.ScoreRequest;
import quasiroll.v1.ScoreResponse;

/**
 * Asks an external {@code quasiroll.v1.RewardService} (reward.proto) to score each completion: one
 * unary {@code Score} call with one item, carrying the prompt id, prompt text, completion and the
 * prompt's whole metadata. The returned reward is clamped to [0, 1].
 *
 * <p>A failing or misbehaving service is not a wrong answer: it throws {@link
 * RewardServiceException} (the caller decides whether to retry or fail the job) instead of scoring
 * 0.
 *
 * <p>Metadata: {@code endpoint} (gRPC target, e.g. {@code localhost:50061} or {@code
 * dns:///rewards.internal:443}; plaintext), optional {@code timeout_ms} (1..600000, default 10000).
 * Other keys are passed through to the service untouched.
 */
public final class RewardServiceVerifier implements Verifier {
  private final RewardServiceGrpc.RewardServiceBlockingStub stub;
  private final long timeoutMs;
  private final String endpoint;
  private final String promptId;
  private final String promptText;
  private final Map<String, String> metadata;

  public RewardServiceVerifier(
      Channel channel,
      String endpoint,
      long timeoutMs,
      String promptId,
      String promptText,
      Map<String, String> metadata) {
    this.stub = RewardServiceGrpc.newBlockingStub(channel);
    this.endpoint = endpoint;
    this.timeoutMs = timeoutMs;
    this.promptId = promptId;
    this.promptText = promptText;
    this.metadata = Map.copyOf(metadata);
  }

  public static RewardServiceVerifier fromMetadata(
      String promptId, String promptText, Map<String, String> metadata) {
    TaskParams p = new TaskParams("service metadata", metadata);
    String endpoint = p.string("endpoint").trim();
    int timeoutMs = p.integer("timeout_ms", 10_000, 1, 600_000);
    return new RewardServiceVerifier(
        RewardServiceChannels.forEndpoint(endpoint),
        endpoint,
        timeoutMs,
        promptId,
        promptText,
        metadata);
  }

  @Override
  public double reward(String completionText) {
    ScoreRequest request =
        ScoreRequest.newBuilder()
            .addItems(
                ScoreItem.newBuilder()
                    .setPromptId(promptId)
                    .setPrompt(promptText)
                    .setCompletion(completionText)
                    .putAllMetadata(metadata))
            .build();
    ScoreResponse response;
    try {
      response = stub.withDeadlineAfter(timeoutMs, TimeUnit.MILLISECONDS).score(request);
    } catch (StatusRuntimeException e) {
      throw new RewardServiceException(
          "reward service at "
              + endpoint
              + " failed for prompt '"
              + promptId
              + "': "
              + e.getStatus(),
          e);
    }
    if (response.getRewardsCount() != 1 || Double.isNaN(response.getRewards(0))) {
      throw new RewardServiceException(
          "reward service at "
              + endpoint
              + " answered "
              + response.getRewardsList()
              + " for one item; expected exactly one non-NaN reward");
    }
    return Math.max(0.0, Math.min(1.0, response.getRewards(0)));
  }
}
