package quasiroll.cluster;

import com.google.protobuf.ByteString;
import quasiroll.v1.SampleResult;

/**
 * Makes sure a result carries its content hash ({@link ContentHash}) before it crosses the data
 * plane: the decode loop sets it; a runner that does not (the load generator) gets it computed
 * here, so deduplication can always compare hashes.
 */
public final class SampleHashes {
  private SampleHashes() {}

  public static SampleResult ensure(SampleResult r) {
    if (!r.getContentHash().isEmpty()) {
      return r;
    }
    int[] tokens = r.getTokenIdsList().stream().mapToInt(Integer::intValue).toArray();
    float[] lp = new float[r.getProcessedLogprobsCount()];
    for (int i = 0; i < lp.length; i++) {
      lp[i] = r.getProcessedLogprobs(i);
    }
    return r.toBuilder().setContentHash(ByteString.copyFrom(ContentHash.of(tokens, lp))).build();
  }
}
