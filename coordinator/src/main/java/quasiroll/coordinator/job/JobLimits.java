package quasiroll.coordinator.job;

import com.typesafe.config.Config;

/**
 * The coordinator's job limits ({@code quasiroll.limits.*} in reference.conf).
 *
 * @param maxStopStrings most stop strings per job
 * @param maxStopBytes most UTF-8 bytes of all stop strings together
 * @param maxShardMessageBytes most bytes a shard assignment may take on the cluster transport: a
 *     job whose shards could be larger is refused, because Pekko drops a message over its frame
 *     limit ({@code pekko.remote.artery.advanced.maximum-frame-size}) and the shard would never
 *     arrive. The coordinator refuses to start when this is not below the frame limit.
 */
public record JobLimits(
    int maxK,
    int maxPrompts,
    int maxPromptBytes,
    int maxNewTokens,
    int maxStopStrings,
    int maxStopBytes,
    long maxShardMessageBytes) {
  /** Limits for tests and in-process use: the reference.conf defaults. */
  public static final JobLimits DEFAULTS =
      new JobLimits(4096, 100_000, 65_536, 32_768, 64, 16_384, 229_376);

  public static JobLimits from(Config c) {
    return new JobLimits(
        c.getInt("quasiroll.limits.max-k"),
        c.getInt("quasiroll.limits.max-prompts"),
        c.getInt("quasiroll.limits.max-prompt-bytes"),
        c.getInt("quasiroll.limits.max-new-tokens"),
        c.getInt("quasiroll.limits.max-stop-strings"),
        c.getInt("quasiroll.limits.max-stop-bytes"),
        c.getBytes("quasiroll.limits.max-shard-message-bytes"));
  }
}
