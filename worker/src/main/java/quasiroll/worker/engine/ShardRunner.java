package quasiroll.worker.engine;

import java.util.function.BooleanSupplier;
import java.util.function.Consumer;
import quasiroll.v1.SampleResult;

/** Decodes shards; implemented by the decode loop over a {@code ModelBackend}. */
public interface ShardRunner {
  /**
   * Decodes every index of the shard as one batch and hands each finished sample to {@code out} (in
   * completion order). Stops early, emitting nothing more, once {@code cancelled} returns true.
   */
  void run(ResolvedShard shard, Consumer<SampleResult> out, BooleanSupplier cancelled);

  /** The model's vocabulary size, reported at registration; 0 = not known. */
  default int vocabSize() {
    return 0;
  }

  /**
   * 0 for a runner that decodes one shard per call on the calling thread (a worker gives it one
   * thread per decode slot); otherwise the samples one forward pass of its shared decode loop holds
   * ({@link ContinuousDecoder}): {@link #run} calls from many threads are batched together, and a
   * worker keeps about that many samples in flight so the batch stays full.
   */
  default int batchRows() {
    return 0;
  }

  /**
   * As {@link #run(ResolvedShard, Consumer, BooleanSupplier)}, also reporting unfinished samples'
   * final text to {@code progress} as it grows. Runners that cannot report progress report none
   * (the default); reporting never changes a sample.
   */
  default void run(
      ResolvedShard shard,
      Consumer<SampleResult> out,
      ProgressSink progress,
      BooleanSupplier cancelled) {
    run(shard, out, cancelled);
  }

  /**
   * As {@link #run(ResolvedShard, Consumer, ProgressSink, BooleanSupplier)}, and once {@code
   * aborted} returns true (checked before each decode step) every unfinished sample is emitted as
   * it stands with finish reason ABORTED, and the shard ends (a policy version published in abort
   * mode went live). Runners that cannot stop mid-sample finish their samples normally (the
   * default).
   */
  default void run(
      ResolvedShard shard,
      Consumer<SampleResult> out,
      ProgressSink progress,
      BooleanSupplier cancelled,
      BooleanSupplier aborted) {
    run(shard, out, progress, cancelled);
  }
}
