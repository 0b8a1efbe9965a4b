package quasiroll.sweep;

import java.util.List;
import quasiroll.common.stats.SampleGroup;

/**
 * The stored outcome of one completed job: per prompt, the reward and answer of every sample by
 * index (what the estimators need), and the generated-token count.
 *
 * @param jobId {@link JobKey#id()}
 * @param seed the job seed it ran with
 * @param wallMillis how long the job took when it ran
 */
public record JobRecord(
    String jobId, long seed, int k, long wallMillis, List<PromptOutcome> prompts) {
  public JobRecord {
    prompts = List.copyOf(prompts);
  }

  /** One prompt's group. */
  public record PromptOutcome(String promptId, double[] rewards, String[] answers, long tokens) {
    public SampleGroup group() {
      return new SampleGroup(rewards, answers);
    }
  }

  public long tokens() {
    return prompts.stream().mapToLong(PromptOutcome::tokens).sum();
  }
}
