package quasiroll.worker.cluster;

/**
 * The job manager's answer to {@link RegisterWorker}: where to stream results (the
 * coordinator's gRPC data plane, "host:port"). Credits the worker had granted to an earlier
 * job manager are void; it grants its free slots again with {@link RequestWork}.
 */
public record Welcome(String dataPlaneAddress) implements WorkerCommand {}
