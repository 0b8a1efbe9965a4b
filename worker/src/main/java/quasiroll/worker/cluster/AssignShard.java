package quasiroll.worker.cluster;

/** The job manager hands a shard to a worker (consuming one of its credits). */
public record AssignShard(ShardTask task) implements WorkerCommand {}
