package quasiroll.cluster;

import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;

/**
 * SampleResult.content_hash: SHA-256 over every generated token id (int32, big-endian) in order,
 * then every processed logprob's IEEE-754 float bits (int32, big-endian) in order. Two results with
 * the same noise key must carry the same hash; a mismatch is a determinism violation (different
 * weights or numerics).
 */
public final class ContentHash {
  private ContentHash() {}

  public static byte[] of(int[] tokens, float[] processedLogprobs) {
    ByteBuffer buf = ByteBuffer.allocate(4 * (tokens.length + processedLogprobs.length));
    for (int t : tokens) {
      buf.putInt(t);
    }
    for (float p : processedLogprobs) {
      buf.putInt(Float.floatToIntBits(p));
    }
    try {
      return MessageDigest.getInstance("SHA-256").digest(buf.array());
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is missing from this JVM", e);
    }
  }
}
