package quasiroll.worker.cluster;

import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import quasiroll.v1.SampleResult;

/**
 * The content hash a sample carries (proto field {@code content_hash}): SHA-256 over the
 * generated token ids (4 bytes each, big-endian) followed by the IEEE-754 bits of the
 * processed log-probabilities (4 bytes each, big-endian). Two runs of the same key must
 * produce the same hash; a duplicate whose hash differs is a determinism violation.
 */
public final class ContentHash {
  private ContentHash() {}

  public static byte[] of(SampleResult r) {
    ByteBuffer buf = ByteBuffer.allocate(4 * (r.getTokenIdsCount() + r.getProcessedLogprobsCount()));
    for (int i = 0; i < r.getTokenIdsCount(); i++) {
      buf.putInt(r.getTokenIds(i));
    }
    for (int i = 0; i < r.getProcessedLogprobsCount(); i++) {
      buf.putInt(Float.floatToRawIntBits(r.getProcessedLogprobs(i)));
    }
    try {
      return MessageDigest.getInstance("SHA-256").digest(buf.array());
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every Java platform ships SHA-256", e);
    }
  }

  /** The result with its content hash set (computed here when the decoder left it empty). */
  public static SampleResult ensure(SampleResult r) {
    if (!r.getContentHash().isEmpty()) {
      return r;
    }
    return r.toBuilder().setContentHash(com.google.protobuf.ByteString.copyFrom(of(r))).build();
  }
}
