package quasiroll.worker.archfixture;

import quasiroll.coordinator.job.JobManager;

/**
 * Deliberately bad fixture for ArchitectureRulesCanFailTest: a worker class using the coordinator.
 */
public final class WorkerImportingCoordinator {
  public String name() {
    return JobManager.class.getName();
  }
}
