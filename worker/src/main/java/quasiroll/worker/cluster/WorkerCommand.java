package quasiroll.worker.cluster;

/** Messages a worker node's agent accepts from the coordinator (and from itself). */
public interface WorkerCommand {}
