package quasiroll.worker.cluster;

/**
 * A version published in abort mode is live: every running shard of {@code modelId} on a
 * version older than {@code version} stops at its next decode step and returns its samples
 * as they stand (finish reason ABORTED, tagged with their version).
 */
public record AbortOlderVersions(String modelId, long version) implements WorkerCommand {}
