package quasiroll.worker.engine;

import java.util.function.Consumer;
import quasiroll.v1.SampleProgress;

/**
 * Where a runner reports unfinished samples, and how often: a sample's new final text is reported
 * once at least {@code everyTokens} tokens or {@code everyMillis} ms passed since its last report
 * (whichever comes first), checked after each decode step.
 */
public record ProgressSink(Consumer<SampleProgress> consumer, int everyTokens, long everyMillis) {}
