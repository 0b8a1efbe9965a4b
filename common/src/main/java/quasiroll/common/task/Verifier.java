package quasiroll.common.task;

/**
 * Scores one completion of one prompt. Implementations are immutable, thread-safe and built once
 * per prompt from its metadata ({@code Verifiers.forMetadata} in the registry package).
 */
@FunctionalInterface
public interface Verifier {
  /**
   * The reward of {@code completionText} (the generated text only, without the prompt), in [0, 1];
   * 1 means correct. Malformed answers score 0, they never throw; only a verifier that asks an
   * outside service may throw, when that service fails ({@link
   * quasiroll.common.task.custom.RewardServiceException}).
   */
  double reward(String completionText);
}
