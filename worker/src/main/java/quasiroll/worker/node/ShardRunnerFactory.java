package quasiroll.worker.node;

import com.typesafe.config.Config;
import quasiroll.common.error.BadInputException;
import quasiroll.worker.engine.ShardRunner;
import quasiroll.worker.load.WorkerSettings;

/**
 * Loads a worker's model once and returns the decode loop over it. The default loads the model with
 * the worker runtime's model loader; configuration key {@code quasiroll.worker.runner-factory}
 * names another implementation (a class with a public no-argument constructor), e.g. a backend
 * outside this build.
 */
public interface ShardRunnerFactory {
  /**
   * @param model the model id the worker registers under
   * @param device "cpu", "cuda", "cuda:N"
   * @param capacity the largest shard (samples decoded as one batch) it will be given
   * @throws BadInputException if the model cannot be loaded (the message says why)
   */
  ShardRunner open(String model, String device, int capacity);

  String CONFIG_KEY = "quasiroll.worker.runner-factory";

  static ShardRunnerFactory fromConfig(Config config) {
    if (!config.hasPath(CONFIG_KEY) || config.getString(CONFIG_KEY).isEmpty()) {
      return new ModelLoaderRunnerFactory(
          WorkerSettings.from(config), config.getBytes(ModelLoaderRunnerFactory.POLICY_BUDGET_KEY));
    }
    String name = config.getString(CONFIG_KEY);
    try {
      return (ShardRunnerFactory) Class.forName(name).getConstructor().newInstance();
    } catch (ReflectiveOperationException | ClassCastException e) {
      throw new BadInputException(
          CONFIG_KEY
              + " = '"
              + name
              + "' is not a ShardRunnerFactory class with a public"
              + " no-argument constructor on the class path",
          e);
    }
  }
}
