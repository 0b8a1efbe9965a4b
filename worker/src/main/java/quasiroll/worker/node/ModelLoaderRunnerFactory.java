package quasiroll.worker.node;

import quasiroll.common.error.BadInputException;
import quasiroll.worker.engine.ShardRunner;

/**
 * The default runner: the worker runtime's model loader plus its shard decoder; model ids
 * starting with {@code loadtest:} get the {@link LoadTestRunner} instead.
 */
final class ModelLoaderRunnerFactory implements ShardRunnerFactory {
  @Override
  public ShardRunner open(String model, String device, int capacity) {
    if (model.startsWith(LoadTestRunner.PREFIX)) {
      return LoadTestRunner.open(model);
    }
    // Wired to ModelLoader + ShardDecoder once the model runtime lands on main.
    throw new BadInputException(
        "model '" + model + "' cannot be loaded: this build has no model loader yet");
  }
}
