package quasiroll.coordinator.job;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import quasiroll.common.task.Verifier;
import quasiroll.v1.Prompt;
import quasiroll.v1.SampleResult;

/**
 * The k sample slots of one prompt, keyed by sample index: the exactly-once point. The first
 * result for an index fills its slot; any later one is a duplicate (a re-run of a shard that
 * was presumed lost), dropped after comparing content hashes: a mismatch means the same key
 * decoded to different content, a determinism violation.
 *
 * <p>Once complete the samples are released and only their hashes kept, so late duplicates
 * are still checked.
 */
final class PromptGroup {
  enum Outcome { ACCEPTED, DUPLICATE, VIOLATION }

  final Prompt prompt;
  final Verifier verifier;
  int k;
  private SampleResult[] results;
  private byte[][] hashes;
  private int received;

  PromptGroup(Prompt prompt, Verifier verifier, int k) {
    this.prompt = prompt;
    this.verifier = verifier;
    this.k = k;
    this.results = new SampleResult[k];
    this.hashes = new byte[k][];
  }

  /**
   * zero_variance GROW: the group becomes {@code size} samples (indices k..size-1 to come);
   * what has arrived stays.
   */
  void grow(int size) {
    results = Arrays.copyOf(results, size);
    hashes = Arrays.copyOf(hashes, size);
    k = size;
  }

  /** @param r a result with 0 <= index < k and its content hash set */
  Outcome offer(SampleResult r) {
    int i = r.getIndex();
    byte[] hash = r.getContentHash().toByteArray();
    if (hashes[i] != null) {
      return Arrays.equals(hashes[i], hash) ? Outcome.DUPLICATE : Outcome.VIOLATION;
    }
    hashes[i] = hash;
    results[i] = r;
    received++;
    return Outcome.ACCEPTED;
  }

  boolean complete() {
    return received == k;
  }

  int received() {
    return received;
  }

  /** The indices among {@code indices} that have no result yet. */
  int[] missing(int[] indices) {
    return Arrays.stream(indices).filter(i -> hashes[i] == null).toArray();
  }

  /** All k samples in index order (only until {@link #release}). */
  List<SampleResult> byIndex() {
    return new ArrayList<>(Arrays.asList(results));
  }

  void release() {
    results = null;
  }
}
