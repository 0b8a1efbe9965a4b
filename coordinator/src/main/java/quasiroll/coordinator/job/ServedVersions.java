package quasiroll.coordinator.job;

import java.util.HashSet;
import java.util.Set;
import quasiroll.coordinator.policy.PolicyStore;

/**
 * Which policy versions of a model are served: the newest published one (new groups start on it)
 * and every version a running group is pinned to (workers must keep those loaded).
 */
final class ServedVersions {
  private final PolicyStore policies;
  private final JobTable jobs;

  /**
   * @param policies published policy versions; null = only the start-up weights (version 0)
   */
  ServedVersions(PolicyStore policies, JobTable jobs) {
    this.policies = policies;
    this.jobs = jobs;
  }

  long latest(String model) {
    return policies == null ? 0 : policies.latest(model);
  }

  /** Versions of a model that workers must keep: the newest and those pinned by running groups. */
  Set<Long> kept(String model) {
    Set<Long> keep = new HashSet<>();
    keep.add(latest(model));
    for (Job j : jobs.all()) {
      if (j.active() && j.def.spec().getModel().equals(model)) {
        keep.addAll(j.pinnedVersions());
      }
    }
    return keep;
  }
}
