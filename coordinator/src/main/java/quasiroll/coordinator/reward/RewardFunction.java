package quasiroll.coordinator.reward;

import quasiroll.v1.Prompt;
import quasiroll.v1.SampleResult;

/**
 * A verifier: scores one sample of a prompt. A prompt names its verifier in metadata key
 * {@value RewardFunctions#VERIFIER_KEY}; the coordinator scores every sample of that prompt
 * with it before the sample is published, and group statistics use the scores.
 *
 * <p>Implementations are found with {@link java.util.ServiceLoader} (list the class in
 * {@code META-INF/services/quasiroll.coordinator.reward.RewardFunction}); they must be
 * deterministic and thread-safe.
 */
public interface RewardFunction {
  /** The name prompts use in their "verifier" metadata. */
  String name();

  /** The reward of {@code sample}; 1.0 or more counts as a pass. */
  double reward(Prompt prompt, SampleResult sample);
}
