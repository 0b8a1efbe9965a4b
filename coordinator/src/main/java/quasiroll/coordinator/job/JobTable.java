package quasiroll.coordinator.job;

import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;

/**
 * The jobs this coordinator holds in memory, by id, in submission order. With a job store a
 * finished job leaves the table (it is served from the store); without one it stays.
 */
final class JobTable {
  private final Map<String, Job> jobs = new LinkedHashMap<>();

  /**
   * The jobs not yet known to be final, so that the gauges cost O(active jobs) per message, not
   * O(every job since the start): with one job per HTTP request the full scan was the coordinator's
   * hottest method and grew without bound. Finished jobs are pruned lazily.
   */
  private final Set<Job> activeSet = new LinkedHashSet<>();

  Job get(String id) {
    return jobs.get(id);
  }

  void add(Job job) {
    jobs.put(job.id, job);
    activeSet.add(job);
  }

  void remove(String id) {
    jobs.remove(id);
  }

  /** Every job in the table (a live view: copy it before failing jobs while iterating). */
  Collection<Job> all() {
    return jobs.values();
  }

  /** Prunes jobs that became final and returns how many are still active. */
  int pruneActive() {
    activeSet.removeIf(j -> !j.active());
    return activeSet.size();
  }
}
