package quasiroll.worker.engine;

import java.util.function.BooleanSupplier;
import java.util.function.Consumer;
import quasiroll.v1.SampleResult;

/**
 * A {@link ShardRunner} that can report progress and stop mid-sample: it implements only the full
 * {@link #run(ResolvedShard, Consumer, ProgressSink, BooleanSupplier, BooleanSupplier)}, and the
 * shorter forms mean "no progress sink" and "never aborted".
 */
public interface AbortableShardRunner extends ShardRunner {
  @Override
  void run(
      ResolvedShard shard,
      Consumer<SampleResult> out,
      ProgressSink progress,
      BooleanSupplier cancelled,
      BooleanSupplier aborted);

  @Override
  default void run(ResolvedShard shard, Consumer<SampleResult> out, BooleanSupplier cancelled) {
    run(shard, out, null, cancelled, () -> false);
  }

  @Override
  default void run(
      ResolvedShard shard,
      Consumer<SampleResult> out,
      ProgressSink progress,
      BooleanSupplier cancelled) {
    run(shard, out, progress, cancelled, () -> false);
  }
}
