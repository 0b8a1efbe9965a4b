package quasiroll.worker.load;

import com.typesafe.config.Config;
import quasiroll.common.error.BadInputException;

/**
 * The worker settings a model backend is built with, read once from the configuration the node
 * loaded (reference.conf, then the user's {@code --config FILE}) and passed down, so no loader
 * re-reads the configuration on its own.
 *
 * @param cpuThreads threads of the CPU transformer backend, at least 1
 * @param memoryBudgetBytes budget for a worker's KV cache and activations
 */
public record WorkerSettings(int cpuThreads, long memoryBudgetBytes) {
  public static final String CPU_THREADS = "quasiroll.worker.cpu-threads";
  public static final String MEMORY_BUDGET = "quasiroll.worker.memory-budget-bytes";

  public WorkerSettings {
    if (cpuThreads < 1) {
      throw new BadInputException("CPU threads " + cpuThreads + ": expected at least 1");
    }
    if (memoryBudgetBytes < 1) {
      throw new BadInputException(
          MEMORY_BUDGET + " is " + memoryBudgetBytes + "; expected a positive byte count");
    }
  }

  /**
   * @throws BadInputException naming a key whose value is out of range
   */
  public static WorkerSettings from(Config config) {
    int threads = config.getInt(CPU_THREADS);
    if (threads < 0) {
      throw new BadInputException(
          CPU_THREADS
              + " is "
              + threads
              + "; expected 0 (all processors) or a positive thread count");
    }
    return new WorkerSettings(
        threads == 0 ? Runtime.getRuntime().availableProcessors() : threads,
        config.getBytes(MEMORY_BUDGET));
  }
}
