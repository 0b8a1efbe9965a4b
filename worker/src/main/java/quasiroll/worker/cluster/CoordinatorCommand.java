package quasiroll.worker.cluster;

/**
 * Messages the coordinator's job manager accepts. The job manager's own protocol extends
 * this; the subset that crosses the network (sent by worker nodes) is declared here, next to
 * the worker side, so both node kinds compile against one definition.
 */
public interface CoordinatorCommand {}
