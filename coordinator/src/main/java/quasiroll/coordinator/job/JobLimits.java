package quasiroll.coordinator.job;

import com.typesafe.config.Config;

/** The coordinator's job limits ({@code quasiroll.limits.*} in reference.conf). */
public record JobLimits(int maxK, int maxPrompts, int maxPromptBytes, int maxNewTokens) {
  public static JobLimits from(Config c) {
    return new JobLimits(
        c.getInt("quasiroll.limits.max-k"),
        c.getInt("quasiroll.limits.max-prompts"),
        c.getInt("quasiroll.limits.max-prompt-bytes"),
        c.getInt("quasiroll.limits.max-new-tokens"));
  }
}
