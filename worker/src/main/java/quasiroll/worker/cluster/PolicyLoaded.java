package quasiroll.worker.cluster;

/**
 * A worker's answer to {@link LoadPolicy}: {@code error} is empty when the version is loaded
 * (then {@code loaded} lists every version the worker now holds), else it says why not
 * (naming the tensor or file); the versions it had keep serving either way.
 */
public record PolicyLoaded(
    String workerId, String modelId, long version, long[] loaded, String error, long loadNanos)
    implements CoordinatorCommand {}
