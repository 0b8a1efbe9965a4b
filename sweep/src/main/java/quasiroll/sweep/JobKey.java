package quasiroll.sweep;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * Names one job of a sweep: one (model, task, sampler, temperature) at group size {@code k},
 * replicate {@code replicate}. Its {@link #id()} is the job's identity in the output directory and,
 * hashed with the sweep seed, its job seed.
 */
public record JobKey(
    String model, String task, String sampler, double temperature, int k, int replicate) {
  public String id() {
    return "model="
        + model
        + "|task="
        + task
        + "|sampler="
        + sampler
        + "|temperature="
        + temperature
        + "|k="
        + k
        + "|replicate="
        + replicate;
  }

  /**
   * File name of the job's stored results: a hash of the id (ids hold characters file systems
   * refuse).
   */
  public String fileName() {
    try {
      byte[] h = MessageDigest.getInstance("SHA-256").digest(id().getBytes(StandardCharsets.UTF_8));
      return HexFormat.of().formatHex(h, 0, 10) + ".jsonl";
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is missing from this JVM", e);
    }
  }
}
