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
  /** The slots this job runs: indices first .. first + count - 1 of the k-group. */
  final int first;
  int count;
  private SampleResult[] results;
  private byte[][] hashes;
  private int received;

  PromptGroup(Prompt prompt, Verifier verifier, int k) {
    this(prompt, verifier, k, 0, k);
  }

  PromptGroup(Prompt prompt, Verifier verifier, int k, int first, int count) {
    this.prompt = prompt;
    this.verifier = verifier;
    this.k = k;
    this.first = first;
    this.count = count;
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
    count += size - k;
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
    return received == count;
  }

  int received() {
    return received;
  }

  /** The indices among {@code indices} that have no result yet. */
  int[] missing(int[] indices) {
    return Arrays.stream(indices).filter(i -> hashes[i] == null).toArray();
  }

  /** The job's samples of this group (all k unless it runs a slice) in index order (only until {@link #release}). */
  List<SampleResult> byIndex() {
    return new ArrayList<>(Arrays.asList(results).subList(first, first + count));
  }

  void release() {
    results = null;
  }
}
