package quasiroll.coordinator.job;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import quasiroll.common.task.Verifier;
import quasiroll.v1.Prompt;
import quasiroll.v1.SampleResult;

/**
 * The k sample slots of one prompt, keyed by sample index: the exactly-once point. The first result
 * for an index fills its slot ({@link #offer}); any later one is a duplicate (a re-run of a shard
 * that was presumed lost), dropped after comparing content hashes: a mismatch means the same key
 * decoded to different content, a determinism violation.
 *
 * <p>An admitted sample is then scored (off the actor when the prompt has a verifier) and put back
 * with {@link #scored}; the group is complete when all k are scored. Once complete the samples are
 * released and only their hashes kept, so late duplicates are still checked.
 */
final class PromptGroup {
  enum Outcome {
    ACCEPTED,
    DUPLICATE,
    VIOLATION
  }

  final Prompt prompt;
  final Verifier verifier;
  int k;

  /** The slots this job runs: indices first .. first + count - 1 of the k-group. */
  final int first;

  int count;
  private SampleResult[] results;
  private byte[][] hashes;
  private int admitted;
  private int scored;

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
   * zero_variance GROW: the group becomes {@code size} samples (indices k..size-1 to come); what
   * has arrived stays.
   */
  void grow(int size) {
    results = Arrays.copyOf(results, size);
    hashes = Arrays.copyOf(hashes, size);
    count += size - k;
    k = size;
  }

  /**
   * @param r a result with 0 <= index < k and its content hash set
   */
  Outcome offer(SampleResult r) {
    int i = r.getIndex();
    byte[] hash = r.getContentHash().toByteArray();
    if (hashes[i] != null) {
      return Arrays.equals(hashes[i], hash) ? Outcome.DUPLICATE : Outcome.VIOLATION;
    }
    hashes[i] = hash;
    admitted++;
    return Outcome.ACCEPTED;
  }

  /** Records the scored form of an admitted sample; true when the group is now complete. */
  boolean scored(SampleResult r) {
    if (results == null || results[r.getIndex()] != null) {
      throw new IllegalStateException(
          "sample " + r.getIndex() + " of prompt '" + prompt.getId() + "' scored twice");
    }
    results[r.getIndex()] = r;
    scored++;
    return complete();
  }

  /** Samples scored so far (admitted ones whose reward is still being computed are not). */
  int scoredCount() {
    return scored;
  }

  boolean complete() {
    return scored == count;
  }

  int received() {
    return admitted;
  }

  /** The indices among {@code indices} that have no result yet (admitted ones count). */
  int[] missing(int[] indices) {
    return Arrays.stream(indices).filter(i -> hashes[i] == null).toArray();
  }

  /**
   * The job's samples of this group (all k unless it runs a slice) in index order (only until
   * {@link #release}).
   */
  List<SampleResult> byIndex() {
    return new ArrayList<>(Arrays.asList(results).subList(first, first + count));
  }

  void release() {
    results = null;
  }

  /** Whether the group was summarized and written (its samples released). */
  boolean released() {
    return results == null;
  }
}
