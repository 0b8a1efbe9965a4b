package quasiroll.worker.cluster;

/**
 * Pull-based scheduling: the worker grants {@code credits} more shards. Each
 * {@link AssignShard} consumes one credit; a worker grants one credit back per finished
 * shard. Without credits a worker gets nothing, so a slow worker is never flooded.
 */
public record RequestWork(String workerId, int credits) implements CoordinatorCommand {}
