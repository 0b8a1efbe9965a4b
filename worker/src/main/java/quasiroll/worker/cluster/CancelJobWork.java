package quasiroll.worker.cluster;

/**
 * The job was cancelled: the worker stops decoding its shards of this job at the next
 * step (the decode loop polls a cancelled flag) and drops any queued ones.
 */
public record CancelJobWork(String jobId) implements WorkerCommand {}
