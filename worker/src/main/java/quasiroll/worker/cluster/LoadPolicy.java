package quasiroll.worker.cluster;

/**
 * Load policy version {@code version} of {@code modelId} beside the versions already loaded
 * (draining first if the worker's weight budget says so) and answer {@link PolicyLoaded}.
 * The version is the start-up weights with the tensors {@code tensorNames[i]} replaced by
 * those in the files {@code tensorFiles[i]} (paths on the coordinator's data directory, which
 * workers share). {@code changed} are the tensors the publish itself gave (checked for
 * completeness unless {@code partial}); {@code keep} are the versions still pinned by running
 * groups: every other version except the newest may be closed.
 */
public record LoadPolicy(
    String modelId,
    long version,
    String[] tensorNames,
    String[] tensorFiles,
    String[] changed,
    boolean partial,
    long[] keep) implements WorkerCommand {}
